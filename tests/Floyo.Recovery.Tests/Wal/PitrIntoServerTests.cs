using System.Globalization;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// An archiving cluster holding an application database owned by an ordinary role (as on a managed server's
/// target it must be recreated by a non-superuser admin), a base backup, and rows at t1 &lt; t2 &lt; t3.
/// </summary>
public sealed class ArchivedShop : IAsyncLifetime
{
    public ArchivingCluster Cluster { get; private set; } = null!;

    public string Database { get; } = $"shop_{Guid.NewGuid():N}"[..16];

    public string Owner { get; } = $"shop_owner_{Guid.NewGuid():N}"[..22];

    public DateTimeOffset BetweenT2AndT3 { get; private set; }

    /// <summary>After the last commit and before the segment holding it was archived: no archived commit is later.</summary>
    public DateTimeOffset AfterT3 { get; private set; }

    public async Task InitializeAsync()
    {
        Cluster = await ArchivingCluster.StartAsync();
        await Cluster.ExecuteAsync($"CREATE ROLE {Owner}");
        await Cluster.ExecuteAsync($"CREATE DATABASE {Database} OWNER {Owner}");
        await ExecuteAsync($"SET ROLE {Owner}; CREATE TABLE orders (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        var baseBackup = await Cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = Cluster.Url }, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);

        await ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(1, 100)");
        await Task.Delay(1100);
        await ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(101, 200)");
        await Task.Delay(700);
        var now = await Cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        BetweenT2AndT3 = new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc));
        await Task.Delay(700);
        await ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(201, 300)");
        await Task.Delay(300);
        AfterT3 = new DateTimeOffset(DateTime.SpecifyKind(await Cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()"), DateTimeKind.Utc));
        await Task.Delay(300);
        await Cluster.SwitchAndWaitForArchiveAsync();
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(DatabaseUrl.Parse(Cluster.Url), Database), default);
        await PgConnector.ExecuteAsync(connection, sql, default);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
        await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Owner}", default);
    }
}

/// <summary><c>restore --pitr --target-database &lt;db&gt; --into</c>: one recovered database into another server through the safe restore.</summary>
public sealed class PitrIntoServerTests(ArchivedShop shop) : IClassFixture<ArchivedShop>
{
    private ArchivingCluster Cluster => shop.Cluster;

    private static NpgsqlConnectionStringBuilder NonSuperuser => DatabaseUrl.Parse(Environment.GetEnvironmentVariable("FLOYO_TEST_PG2_NS_URL")
        ?? throw new InvalidOperationException("FLOYO_TEST_PG2_NS_URL is not set: run the suite with scripts/test.sh"), "FLOYO_TEST_PG2_NS_URL");

    private Dictionary<string, string?> Env(NpgsqlConnectionStringBuilder destination) => new()
    {
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = Cluster.Store,
        ["FLOYO_DR_COMMAND"] = Cluster.Wrapper,
        ["DATABASE_URL"] = TestServers.Url(destination, "postgres"),
    };

    private string NewDataDir() => Path.Combine(Cluster.Root, "into-" + Guid.NewGuid().ToString("N")[..8]);

    private static string NewName() => $"pitr_into_{Guid.NewGuid():N}"[..20];

    private string[] Pitr(string dataDir, params string[] more) => PitrTo(shop.BetweenT2AndT3, dataDir, more);

    private static string[] PitrTo(DateTimeOffset target, string dataDir, params string[] more) =>
        ["restore", "--pitr", "--target-time", target.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), "--data-dir", dataDir, .. more];

    [Fact]
    public async Task A_target_after_the_last_archived_commit_recovers_every_archived_transaction_instead_of_failing()
    {
        var target = NewName();
        var dataDir = NewDataDir();
        try
        {
            // PostgreSQL alone stops with "recovery ended before configured recovery target was reached" here.
            var run = await FloyoDr.RunAsync(Env(TestServers.Alternate), PitrTo(shop.AfterT3, dataDir, "--target-database", shop.Database, "--into", target, "--discard-data-dir"));

            Assert.True(run.ExitCode == 0, run.All);
            Assert.Equal("300", await ScalarAsync(TestServers.Alternate, target, "SELECT count(*)::text FROM orders"));
        }
        finally
        {
            await DropAsync(target);
        }
    }

    [Fact]
    public async Task A_superuser_destination_gets_exactly_the_rows_up_to_t2_and_the_recovered_cluster_is_kept_stopped_without_private_settings()
    {
        var target = NewName();
        var dataDir = NewDataDir();
        try
        {
            var run = await FloyoDr.RunAsync(Env(TestServers.Alternate), Pitr(dataDir, "--target-database", shop.Database, "--into", target));

            Assert.True(run.ExitCode == 0, run.All);
            Assert.Contains($"copied '{shop.Database}' into '{target}'", run.StdOut);
            Assert.Contains("200 rows in 1 tables, counts proven on the staging copy", run.StdOut);
            Assert.Matches(@"\d+ transactions replayed from the WAL archive", run.StdOut);
            Assert.Contains($"the recovered cluster is stopped and kept in {dataDir}", run.StdOut);
            Assert.Equal("200 1 200", await ScalarAsync(TestServers.Alternate, target, "SELECT count(*) || ' ' || min(id) || ' ' || max(id) FROM orders"));
            Assert.False(File.Exists(Path.Combine(dataDir, "postmaster.pid")));
            var auto = await File.ReadAllTextAsync(Path.Combine(dataDir, "postgresql.auto.conf"));
            Assert.DoesNotContain("floyo-dr private access", auto);
            Assert.DoesNotContain("hba_file", auto);
            Assert.False(File.Exists(Path.Combine(dataDir, "floyo-pitr-hba.conf")));
            Assert.Contains("recovery_target_time", auto);
        }
        finally
        {
            await DropAsync(target);
        }
    }

    [Fact]
    public async Task A_non_superuser_admin_destination_gets_exactly_the_rows_up_to_t2_with_the_owner_role_created_and_the_data_dir_discarded()
    {
        var target = NewName();
        var dataDir = NewDataDir();
        // As on a fresh managed server: the owner role is not there (another test's superuser restore may have made it).
        await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default))
        {
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {shop.Owner}", default);
        }
        try
        {
            var run = await FloyoDr.RunAsync(Env(NonSuperuser), Pitr(dataDir, "--target-database", shop.Database, "--into", target, "--discard-data-dir"));

            Assert.True(run.ExitCode == 0, run.All);
            Assert.Contains($"created roles without passwords: {shop.Owner}", run.StdOut);
            Assert.Equal("200 200", await ScalarAsync(TestServers.Alternate, target, "SELECT count(*) || ' ' || max(id) FROM orders"));
            Assert.Equal(shop.Owner, await ScalarAsync(TestServers.Alternate, target, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"));
            Assert.False(Directory.Exists(dataDir));
            Assert.Contains("data directory", run.StdOut);
        }
        finally
        {
            await DropAsync(target);
        }
    }

    [Fact]
    public async Task A_non_empty_target_without_drop_existing_is_refused_before_the_recovery_and_left_untouched_and_drop_existing_replaces_it()
    {
        var target = NewName();
        var dataDir = NewDataDir();
        await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default))
        {
            await PgConnector.ExecuteAsync(admin, $"CREATE DATABASE {target}", default);
        }
        try
        {
            await using (var existing = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, target), default))
            {
                await PgConnector.ExecuteAsync(existing, "CREATE TABLE keep_me (v text); INSERT INTO keep_me VALUES ('precious')", default);
            }

            var refused = await FloyoDr.RunAsync(Env(TestServers.Alternate), Pitr(dataDir, "--target-database", shop.Database, "--into", target));

            Assert.Equal((int)ErrorKind.RefusedForSafety, refused.ExitCode);
            Assert.Contains($"database '{target}'", refused.StdErr);
            Assert.Contains("is not empty: pass --drop-existing", refused.StdErr);
            Assert.Single(refused.StdErr.Trim().Split('\n'));
            Assert.False(Directory.Exists(dataDir));
            Assert.Equal("precious", await ScalarAsync(TestServers.Alternate, target, "SELECT string_agg(v, ',') FROM keep_me"));

            var replaced = await FloyoDr.RunAsync(Env(TestServers.Alternate), Pitr(dataDir, "--target-database", shop.Database, "--into", target, "--drop-existing", "--discard-data-dir"));

            Assert.True(replaced.ExitCode == 0, replaced.All);
            Assert.Contains("(replaced the existing database)", replaced.StdOut);
            Assert.Equal("200", await ScalarAsync(TestServers.Alternate, target, "SELECT count(*)::text FROM orders"));
            Assert.Equal("0", await ScalarAsync(TestServers.Alternate, target, "SELECT count(*)::text FROM pg_class WHERE relname = 'keep_me'"));
        }
        finally
        {
            await DropAsync(target);
        }
    }

    [Fact]
    public async Task A_missing_database_in_the_recovered_cluster_is_not_found_and_the_destination_gets_nothing()
    {
        var target = NewName();
        var dataDir = NewDataDir();

        var run = await FloyoDr.RunAsync(Env(TestServers.Alternate), Pitr(dataDir, "--target-database", "no_such_db", "--into", target, "--discard-data-dir"));

        Assert.Equal((int)ErrorKind.NotFound, run.ExitCode);
        Assert.Contains("database 'no_such_db' does not exist in the recovered cluster; it holds: ", run.StdErr);
        Assert.Contains(shop.Database, run.StdErr);
        Assert.False(Directory.Exists(dataDir));
        Assert.Equal("0", await ScalarAsync(TestServers.Alternate, "postgres", $"SELECT count(*)::text FROM pg_database WHERE datname LIKE '{target}%'"));
    }

    [Theory]
    [InlineData("--into", "x", "--into needs --target-database")]
    [InlineData("--target-database", "x", "add --into")]
    [InlineData("--drop-existing", null, "--drop-existing with --pitr only applies to --into")]
    [InlineData("--discard-data-dir", null, "--discard-data-dir only applies to --into")]
    [InlineData("--archive", null, "use one or the other")]
    [InlineData("--file", "some.dump.zst", "it does not take --file")]
    public async Task Contradictory_options_are_usage_errors_and_nothing_is_touched(string option, string? value, string message)
    {
        var dataDir = NewDataDir();
        string[] extra = option == "--archive" ? ["--target-database", "x", "--into", "--archive"] : value is null ? [option] : [option, value];
        if (option == "--into")
        {
            extra = ["--into", "x"];
        }

        var run = await FloyoDr.RunAsync(Env(TestServers.Alternate), Pitr(dataDir, extra));

        Assert.Equal((int)ErrorKind.Usage, run.ExitCode);
        Assert.Contains(message, run.StdErr);
        Assert.False(Directory.Exists(dataDir));
    }

    [Fact]
    public async Task With_restore_approval_required_into_is_refused_as_it_cannot_take_the_approval_and_nothing_is_touched()
    {
        var dataDir = NewDataDir();
        var env = Env(TestServers.Alternate);
        env["RESTORE_APPROVAL_REQUIRED"] = "true";

        var run = await FloyoDr.RunAsync(env, Pitr(dataDir, "--target-database", shop.Database, "--into", NewName()));

        Assert.Equal((int)ErrorKind.RefusedForSafety, run.ExitCode);
        Assert.Contains("RESTORE_APPROVAL_REQUIRED is on", run.StdErr);
        Assert.False(Directory.Exists(dataDir));
    }

    [Fact]
    public async Task A_system_database_as_the_destination_is_refused_before_anything_starts()
    {
        var dataDir = NewDataDir();

        var run = await FloyoDr.RunAsync(Env(TestServers.Alternate), Pitr(dataDir, "--target-database", shop.Database, "--into", "postgres"));

        Assert.Equal((int)ErrorKind.RefusedForSafety, run.ExitCode);
        Assert.Contains("refusing to restore into the system database 'postgres'", run.StdErr);
        Assert.False(Directory.Exists(dataDir));
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnectionStringBuilder server, string database, string sql)
    {
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, database), default);
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    private static async Task DropAsync(string database)
    {
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
        await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)", default);
    }
}
