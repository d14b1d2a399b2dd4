using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>
/// Verification and restores on a live server (the default: the same server as production) never change
/// the roles that exist there: security decisions taken after the backup stay taken.
/// </summary>
public sealed class RoleSafetyTests
{
    [Fact]
    public async Task Verify_and_restore_do_not_give_back_a_membership_revoked_after_the_backup()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.Database.ExecuteAsync($"""
            CREATE ROLE {scene.Group} NOLOGIN;
            CREATE ROLE {scene.Member} NOLOGIN IN ROLE {scene.Group};
            GRANT SELECT ON accounts TO {scene.Group};
            """);
        var backup = await RestoreSafetyTests.BackupAsync(scene.Env);
        await scene.Database.ExecuteAsync($"REVOKE {scene.Group} FROM {scene.Member}");

        var verify = await FloyoDr.RunAsync(scene.Env, "verify", "--latest", "--json");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.False(await scene.IsMemberAsync(scene.Member, scene.Group), "verify granted a revoked membership back");
        Assert.Empty(JsonDocument.Parse(verify.StdOut).RootElement.GetProperty("createdRoles").EnumerateArray());

        var restore = await FloyoDr.RunAsync(scene.Env, "restore", "--file", backup, "--target-database", scene.Database.Name + "_copy");
        Assert.True(restore.ExitCode == 0, restore.All);
        Assert.False(await scene.IsMemberAsync(scene.Member, scene.Group), "restore granted a revoked membership back");
    }

    [Fact]
    public async Task A_role_dropped_on_purpose_after_the_backup_stays_dropped_after_verify()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.Database.ExecuteAsync($"""
            CREATE ROLE {scene.Group} NOLOGIN;
            CREATE ROLE {scene.Member} LOGIN IN ROLE {scene.Group};
            GRANT SELECT ON accounts TO {scene.Group};
            """);
        await RestoreSafetyTests.BackupAsync(scene.Env);
        await scene.Database.ExecuteAsync($"REVOKE ALL ON accounts FROM {scene.Group}; DROP ROLE {scene.Member}; DROP ROLE {scene.Group}");

        var verify = await FloyoDr.RunAsync(scene.Env, "verify", "--latest", "--json");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.False(await scene.RoleExistsAsync(scene.Member), "verify left a role that had been dropped on purpose");
        Assert.False(await scene.RoleExistsAsync(scene.Group), "verify left a role that had been dropped on purpose");
        var record = JsonDocument.Parse(verify.StdOut).RootElement;
        var created = record.GetProperty("createdRoles").EnumerateArray().Select(e => e.GetString()).ToList();
        var dropped = record.GetProperty("droppedRoles").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains(scene.Member, created);
        Assert.Contains(scene.Group, created);
        Assert.Equal(created.Order(), dropped.Order());
    }

    [Fact]
    public async Task An_attribute_set_after_the_backup_is_untouched_by_verify_and_restore()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.Database.ExecuteAsync($"""
            CREATE ROLE {scene.Member} LOGIN CONNECTION LIMIT 5;
            GRANT SELECT ON accounts TO {scene.Member};
            """);
        var backup = await RestoreSafetyTests.BackupAsync(scene.Env);
        await scene.Database.ExecuteAsync($"ALTER ROLE {scene.Member} NOLOGIN CONNECTION LIMIT 1");

        var verify = await FloyoDr.RunAsync(scene.Env, "verify", "--latest");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.Equal("f/1", await scene.AttributesAsync(scene.Member));

        var restore = await FloyoDr.RunAsync(scene.Env, "restore", "--file", backup, "--target-database", scene.Database.Name + "_copy");
        Assert.True(restore.ExitCode == 0, restore.All);
        Assert.DoesNotContain(scene.Member, restore.StdOut, StringComparison.Ordinal);
        Assert.Equal("f/1", await scene.AttributesAsync(scene.Member));
    }

    /// <summary>A production database on the primary cluster with one table, and two role names for the test to use.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();

        private Scene(TestDatabase database)
        {
            Database = database;
            var suffix = Guid.NewGuid().ToString("N")[..8];
            Member = $"floyo_member_{suffix}";
            Group = $"floyo_group_{suffix}";
            Env = CliEnvironment.For(database, _dir.Path);
        }

        public TestDatabase Database { get; }

        public string Member { get; }

        public string Group { get; }

        public Dictionary<string, string?> Env { get; }

        public static async Task<Scene> CreateAsync()
        {
            var database = await TestDatabase.CreateAsync();
            await database.ExecuteAsync("CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts SELECT g, 'n' || g FROM generate_series(1, 20) g;");
            return new Scene(database);
        }

        public async Task<bool> IsMemberAsync(string member, string group) => await ScalarAsync<bool>("""
            SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
                           WHERE r.rolname = $1 AND g.rolname = $2)
            """, member, group);

        public async Task<bool> RoleExistsAsync(string role) => await ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role);

        /// <summary>rolcanlogin and rolconnlimit, as "t/5".</summary>
        public Task<string> AttributesAsync(string role) =>
            ScalarAsync<string>("SELECT CASE WHEN rolcanlogin THEN 't' ELSE 'f' END || '/' || rolconnlimit FROM pg_roles WHERE rolname = $1", role);

        private static async Task<T> ScalarAsync<T>(string sql, params string[] values)
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default);
            await using var command = new NpgsqlCommand(sql, admin);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }
            return (T)(await command.ExecuteScalarAsync())!;
        }

        public async ValueTask DisposeAsync()
        {
            await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {PgConnector.Quote(Database.Name + "_copy")} WITH (FORCE)", default);
            }
            await Database.DisposeAsync();
            await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Member}; DROP ROLE IF EXISTS {Group}", default);
            }
            _dir.Dispose();
        }
    }
}
