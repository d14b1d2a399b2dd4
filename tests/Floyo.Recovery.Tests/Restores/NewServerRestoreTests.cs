using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>Total server failure: a backup restored onto a brand-new, empty cluster, roles included.</summary>
public sealed class NewServerRestoreTests
{
    [Fact]
    public async Task Backup_restores_onto_an_empty_cluster_with_its_owners_and_grantees()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string owner = $"floyo_owner_{suffix}", reader = $"floyo_reader_{suffix}", group = $"floyo_group_{suffix}";
        await using var source = await TestDatabase.CreateAsync();
        await source.LoadPagilaAsync();
        await source.ExecuteAsync($"""
            CREATE ROLE {group} NOLOGIN;
            CREATE ROLE {owner} NOLOGIN;
            CREATE ROLE {reader} LOGIN PASSWORD 'never-copied-{suffix}' IN ROLE {group};
            CREATE SCHEMA app AUTHORIZATION {owner};
            CREATE TABLE app.accounts (id int PRIMARY KEY, name text);
            ALTER TABLE app.accounts OWNER TO {owner};
            INSERT INTO app.accounts VALUES (1, 'a'), (2, 'b');
            GRANT USAGE ON SCHEMA app TO {group};
            GRANT SELECT ON app.accounts TO {group};
            """);
        using var dir = new TempDirectory();
        try
        {
            var name = await RestoreSafetyTests.BackupAsync(CliEnvironment.For(source, dir.Path));
            var meta = await File.ReadAllTextAsync(Path.Combine(dir.Path, name + ".meta.json"));
            Assert.DoesNotContain($"never-copied-{suffix}", meta, StringComparison.Ordinal);
            Assert.DoesNotContain("SCRAM-SHA-256", meta, StringComparison.Ordinal);

            var alternate = TestServers.Alternate;
            var target = source.Name;
            var env = new Dictionary<string, string?> { ["DATABASE_URL"] = TestServers.Url(alternate, target), ["BACKUP_DIR"] = dir.Path };
            var run = await FloyoDr.RunAsync(env, "restore", "--file", name);
            Assert.True(run.ExitCode == 0, run.All);
            Assert.DoesNotContain("does not exist", run.All, StringComparison.Ordinal);

            var restored = await TestDatabase.FactsOf(alternate, target);
            var original = await source.FactsAsync();
            Assert.Equal(original.Tables, restored.Tables);
            Assert.Equal(original.ObjectCounts, restored.ObjectCounts);

            await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(alternate, target), default);
            await using var command = new NpgsqlCommand($"""
                SELECT pg_get_userbyid(c.relowner), has_table_privilege('{reader}', 'app.accounts', 'SELECT'),
                       (SELECT rolcanlogin FROM pg_roles WHERE rolname = '{reader}'),
                       (SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = '{reader}')
                FROM pg_class c WHERE c.oid = 'app.accounts'::regclass
                """, connection);
            await using var row = await command.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.Equal(owner, row.GetString(0));
            Assert.True(row.GetBoolean(1), "the grantee's privileges came back through its group");
            Assert.True(row.GetBoolean(2));
            Assert.True(row.GetBoolean(3), "no password travels with a backup");
        }
        finally
        {
            await DropAsync(TestServers.Alternate, source.Name, owner, reader, group);
            await source.DisposeAsync();
            await DropAsync(TestServers.Primary, null, owner, reader, group);
        }
    }

    private static async Task DropAsync(NpgsqlConnectionStringBuilder server, string? database, params string[] roles)
    {
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), default);
        if (database is not null)
        {
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {PgConnector.Quote(database)} WITH (FORCE)", default);
        }
        foreach (var role in roles)
        {
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {role}", default);
        }
    }
}
