using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>
/// Issue 10, item 1: a database name that libpq would read as a connection string ('host=... port=...
/// dbname=') must never send the admin's user and password to the server it names.
/// </summary>
public sealed class ConnectionStringNameTests
{
    [Fact]
    public async Task A_target_database_that_reads_as_a_connection_string_is_refused_and_no_credentials_leave()
    {
        await using var listener = FakePostgresListener.Start();
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await RestoreSafetyTests.BackupAsync(env);
        var crafted = $"host=127.0.0.1 port={listener.Port} dbname=";

        var run = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", crafted);

        Assert.True(listener.Contacts.IsEmpty, $"the listener named in --target-database received {listener.Describe()}");
        Cli.CliErrorTests.AssertOneLineError(run, "--target-database is not a valid database name: it contains '='", ErrorKind.Usage);
        Assert.DoesNotContain(database.Server.Password!, run.All, StringComparison.Ordinal);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_database WHERE datname LIKE 'host=%'"));
    }

    [Theory]
    [InlineData("DATABASE_URL")]
    [InlineData("VERIFY_DATABASE_URL")]
    [InlineData("STAGING_DATABASE_URL")]
    public async Task A_database_url_whose_name_reads_as_a_connection_string_is_refused_at_start_up(string setting)
    {
        await using var listener = FakePostgresListener.Start();
        await using var database = await Sample.UsersAsync(1);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        env[setting] = TestServers.Url(database.Server, $"host=127.0.0.1 port={listener.Port} dbname=");

        var run = await FloyoDr.RunAsync(env, "backup", "--full");

        Cli.CliErrorTests.AssertOneLineError(run, $"{setting} is malformed: its database name is not valid: it contains '='");
        Assert.True(listener.Contacts.IsEmpty, $"the listener received {listener.Describe()}");
    }

    [Theory]
    [InlineData("APP_DB_ROLES", "floyo_app,postgres://evil", "APP_DB_ROLES names a role that is not valid")]
    [InlineData("DRILL_APP_LOGIN", "a=b", "DRILL_APP_LOGIN is not a valid role name")]
    [InlineData("APP_DB_DATABASE", "host=evil dbname=x", "APP_DB_DATABASE is not a valid database name")]
    public async Task Settings_naming_roles_or_databases_are_identifiers(string setting, string value, string expected)
    {
        await using var database = await Sample.UsersAsync(1);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path, (setting, value));

        var run = await FloyoDr.RunAsync(env, "list");

        Cli.CliErrorTests.AssertOneLineError(run, expected);
    }

    [Theory]
    [InlineData("Floyo \"Ünïcødé\" Straße copy", null)]
    [InlineData("with space", null)]
    [InlineData("a=b", "contains '='")]
    [InlineData("postgresql://h/db", "postgres:// URI")]
    [InlineData("Postgres://h/db", "postgres:// URI")]
    [InlineData(" padded", "white space")]
    [InlineData("tab\there", "control character")]
    [InlineData("", "empty")]
    public void The_rule_keeps_unusual_legal_names_and_refuses_connection_strings(string name, string? problem)
    {
        if (problem is null)
        {
            Assert.Null(PgIdentifier.Problem(name));
            Assert.Equal(name, PgIdentifier.Database(name, "x"));
        }
        else
        {
            Assert.Contains(problem, PgIdentifier.Problem(name), StringComparison.Ordinal);
            var e = Assert.Throws<UsageException>(() => PgIdentifier.Database(name, "the setting"));
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains(PgIdentifier.Rule, e.Message, StringComparison.Ordinal);
        }
        Assert.NotNull(PgIdentifier.Problem(new string('x', 64)));
    }

    /// <summary>
    /// Below the validation: even a name with '=' (which PostgreSQL allows) reaches pg_dump and pg_restore
    /// through PGDATABASE, which libpq never expands, so they work on that very database and call nowhere else.
    /// </summary>
    [Fact]
    public async Task Pg_dump_and_pg_restore_take_the_database_from_the_environment_even_when_it_reads_as_a_connection_string()
    {
        await using var listener = FakePostgresListener.Start();
        await using var source = await TestDatabase.CreateAsync($"host=127.0.0.1 port={listener.Port} dbname=src_{Guid.NewGuid().ToString("N")[..6]}");
        await using var target = await TestDatabase.CreateAsync($"host=127.0.0.1 port={listener.Port} dbname=dst_{Guid.NewGuid().ToString("N")[..6]}");
        await source.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 42)");
        using var dir = new TempDirectory();
        await using var engine = Engine.Create(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = TestServers.Url(source.Server, "postgres"),
            ["BACKUP_DIR"] = dir.Path,
        });
        var archive = Path.Combine(dir.Path, "dump");

        // pg_dump exactly as a backup runs it, at a snapshot exported by a session on the source.
        var dumped = await Record.ExceptionAsync(async () =>
        {
            await using var session = await PgConnector.OpenAsync(source.Connection, default);
            await using var snapshot = await session.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            await using var export = new NpgsqlCommand("SELECT pg_export_snapshot()", session, snapshot);
            var snapshotId = (string)(await export.ExecuteScalarAsync())!;
            using var compressed = new MemoryStream();
            await engine.GetRequiredService<FullBackupRunner>().DumpAsync(source.Connection, snapshotId, compress: true, compressed, null, default);
            await using var zstd = new ZstdSharp.DecompressionStream(new MemoryStream(compressed.ToArray()));
            await using var file = File.Create(archive);
            await zstd.CopyToAsync(file);
        });
        var restored = dumped is null
            ? await Record.ExceptionAsync(() => engine.GetRequiredService<PgRestore>().RunAsync(target.Server, target.Name, archive, null, 2, default))
            : null;

        Assert.True(listener.Contacts.IsEmpty, $"the listener named in the database name received {listener.Describe()}");
        Assert.Null(dumped);
        Assert.Null(restored);
        Assert.Equal(42L, await target.ScalarAsync<long>("SELECT count(*) FROM t"));
    }
}
