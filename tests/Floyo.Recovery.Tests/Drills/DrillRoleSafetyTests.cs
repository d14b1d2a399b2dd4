using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>
/// Drills touch a server that may be production's (the README allows staging there): they never change
/// a role or a password that exists on it, and they leave no role behind that they created.
/// </summary>
public sealed class DrillRoleSafetyTests
{
    [Fact]
    public async Task Restore_test_on_productions_server_leaves_the_app_logins_real_password_working()
    {
        await using var scene = await Scene.CreateAsync(TestServers.Primary);
        await scene.BackupAsync();
        await scene.Production.ExecuteAsync($"ALTER ROLE {scene.Other} NOLOGIN");

        var drill = await scene.DrillAsync("restore-test");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        // The real password still authenticates: the drill never touched it.
        await scene.AssertRealPasswordWorksAsync();
        var login = drill.Steps.Single(s => s.GetProperty("name").GetString() == "application login").GetProperty("detail").GetString()!;
        Assert.Contains($"through temporary role 'floyo_drill_login_", login, StringComparison.Ordinal);
        Assert.Contains($"member of '{scene.AppLogin}'", login, StringComparison.Ordinal);
        Assert.Contains("read 300 rows", login, StringComparison.Ordinal);

        var temporary = System.Text.RegularExpressions.Regex.Match(login, "'(floyo_drill_login_[0-9a-f]+)'").Groups[1].Value;
        Assert.False(await Scene.ScalarAsync<bool>(TestServers.Primary, $"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{temporary}')"), "the temporary login was left");
        Assert.False(await Scene.ScalarAsync<bool>(TestServers.Primary, $"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{scene.Other}'"),
            "the drill changed an attribute of an existing role");
        // Every role existed: nothing was created, so the staging copy stays for inspection.
        Assert.Equal(300, (await TestDatabase.FactsOf(TestServers.Primary, scene.StagingName)).Tables.Single().Rows);
    }

    [Fact]
    public async Task Restore_test_on_productions_server_does_not_bring_back_a_revoked_membership_or_a_dropped_role()
    {
        await using var scene = await Scene.CreateAsync(TestServers.Primary);
        await scene.BackupAsync();
        await scene.Production.ExecuteAsync($"REVOKE {scene.Group} FROM {scene.Other}; REVOKE ALL ON accounts FROM {scene.Dropped}; DROP ROLE {scene.Dropped}");

        var drill = await scene.DrillAsync("restore-test");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        Assert.False(await Scene.ScalarAsync<bool>(TestServers.Primary, $"SELECT pg_has_role('{scene.Other}', '{scene.Group}', 'MEMBER')"),
            "the drill granted a revoked membership back");
        Assert.False(await Scene.ScalarAsync<bool>(TestServers.Primary, $"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{scene.Dropped}')"),
            "the drill left a role that had been dropped on purpose");
        var restore = drill.Steps.First(s => s.GetProperty("name").GetString() == "restore onto staging").GetProperty("detail").GetString()!;
        Assert.Contains($"created missing roles: {scene.Dropped}", restore, StringComparison.Ordinal);
        var release = drill.Steps[^1];
        Assert.Equal("drop the roles the drill created", release.GetProperty("name").GetString());
        Assert.Contains($"dropped roles: {scene.Dropped}", release.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_an_empty_staging_server_the_drill_proves_its_own_login_and_drops_every_role_it_created()
    {
        await using var scene = await Scene.CreateAsync(TestServers.Alternate);
        await scene.BackupAsync();

        var drill = await scene.DrillAsync("restore-test");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        var login = drill.Steps.Single(s => s.GetProperty("name").GetString() == "application login").GetProperty("detail").GetString()!;
        Assert.Contains($"role '{scene.AppLogin}' connected and read 300 rows", login, StringComparison.Ordinal);
        Assert.Contains("created by this drill: proven with a one-time password", login, StringComparison.Ordinal);
        Assert.Equal("drop the roles the drill created", drill.Steps[^1].GetProperty("name").GetString());
        foreach (var role in new[] { scene.AppLogin, scene.Group, scene.Other, scene.Dropped })
        {
            Assert.False(await Scene.ScalarAsync<bool>(TestServers.Alternate, $"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')"), $"{role} was left on staging");
        }
        Assert.False(await Scene.ScalarAsync<bool>(TestServers.Alternate, $"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{scene.StagingName}')"),
            "the staging copy depends on the roles the drill created: it goes with them");
    }

    [Fact]
    public async Task A_non_superuser_admin_proves_an_existing_app_login_through_a_temporary_member_role()
    {
        await using var scene = await Scene.CreateAsync(TestServers.Primary);
        await scene.BackupAsync();
        // The admin of a managed server: NOSUPERUSER with CREATEROLE and CREATEDB (no membership in the app's roles).
        var manager = $"floyo_mgr_{scene.StagingName}";
        var managerPassword = Guid.NewGuid().ToString("N");
        await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default))
        {
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {manager} LOGIN NOSUPERUSER CREATEROLE CREATEDB PASSWORD '{managerPassword}'", default);
            await PgConnector.ExecuteAsync(admin, $"CREATE DATABASE {scene.StagingName}", default);
        }
        try
        {
            await using (var staging = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, scene.StagingName), default))
            {
                await PgConnector.ExecuteAsync(staging, $"CREATE TABLE accounts (id int); INSERT INTO accounts SELECT generate_series(1, 7); GRANT SELECT ON accounts TO {scene.Group}", default);
            }
            var asManager = new NpgsqlConnectionStringBuilder(TestServers.Primary.ConnectionString) { Username = manager, Password = managerPassword };
            var settings = new Dictionary<string, string?>(scene.Env) { ["STAGING_DATABASE_URL"] = TestServers.Url(asManager, scene.StagingName) };
            await using var engine = Engine.Create(settings);
            var steps = engine.GetRequiredService<Recovery.Drills.DrillSteps>();
            var backup = await steps.ChooseBackupAsync(Recovery.Storage.BackupSource.Primary, requireVerified: false, default);

            var detail = await steps.ProveApplicationLoginAsync(new Recovery.Drills.ApplicationLoginCheck(backup, []), default);

            Assert.Contains("through temporary role 'floyo_drill_login_", detail, StringComparison.Ordinal);
            Assert.Contains("read 7 rows", detail, StringComparison.Ordinal);
            await scene.AssertRealPasswordWorksAsync();
        }
        finally
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {scene.StagingName} WITH (FORCE)", default);
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {manager}", default);
        }
    }

    /// <summary>
    /// Production with an application login (a real password) reading through a group, another login in
    /// the same group, and a role holding a grant; staging on <c>stagingServer</c>.
    /// </summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly NpgsqlConnectionStringBuilder _stagingServer;

        private Scene(TestDatabase production, NpgsqlConnectionStringBuilder stagingServer, string suffix)
        {
            Production = production;
            _stagingServer = stagingServer;
            AppLogin = $"floyo_app_{suffix}";
            AppPassword = $"prod-only-{suffix}";
            Group = $"floyo_rw_{suffix}";
            Other = $"floyo_other_{suffix}";
            Dropped = $"floyo_gone_{suffix}";
            StagingName = $"staging_{suffix}";
            Env = CliEnvironment.For(production, _dir.Path,
                ("STAGING_DATABASE_URL", TestServers.Url(stagingServer, StagingName)), ("DRILL_APP_LOGIN", AppLogin));
        }

        public TestDatabase Production { get; }

        public string AppLogin { get; }

        public string AppPassword { get; }

        public string Group { get; }

        public string Other { get; }

        public string Dropped { get; }

        public string StagingName { get; }

        public Dictionary<string, string?> Env { get; }

        public static async Task<Scene> CreateAsync(NpgsqlConnectionStringBuilder stagingServer)
        {
            var suffix = Guid.NewGuid().ToString("N")[..8];
            var production = await TestDatabase.CreateAsync();
            var scene = new Scene(production, stagingServer, suffix);
            await production.ExecuteAsync($"""
                CREATE ROLE {scene.Group} NOLOGIN;
                CREATE ROLE {scene.AppLogin} LOGIN PASSWORD '{scene.AppPassword}' IN ROLE {scene.Group};
                CREATE ROLE {scene.Other} LOGIN IN ROLE {scene.Group};
                CREATE ROLE {scene.Dropped} NOLOGIN;
                CREATE TABLE accounts (id int PRIMARY KEY, name text);
                INSERT INTO accounts SELECT g, 'name ' || g FROM generate_series(1, 300) g;
                GRANT SELECT ON accounts TO {scene.Group};
                GRANT SELECT ON accounts TO {scene.Dropped};
                """);
            return scene;
        }

        public async Task BackupAsync()
        {
            var run = await FloyoDr.RunAsync(Env, "backup", "--full", "--json");
            Assert.True(run.ExitCode == 0, run.All);
        }

        public async Task<(CliResult Run, List<JsonElement> Steps)> DrillAsync(string scenario)
        {
            var run = await FloyoDr.RunAsync(Env, "drill", "--scenario", scenario, "--json");
            Assert.True(run.StdOut.Length > 0, run.All);
            var json = JsonDocument.Parse(run.StdOut).RootElement;
            return (run, [.. json.GetProperty("steps").EnumerateArray()]);
        }

        public async Task AssertRealPasswordWorksAsync()
        {
            var real = new NpgsqlConnectionStringBuilder(DatabaseUrl.WithDatabase(TestServers.Primary, Production.Name).ConnectionString)
            {
                Username = AppLogin,
                Password = AppPassword,
                Pooling = false,
            };
            await using var app = new NpgsqlConnection(real.ConnectionString);
            await app.OpenAsync();
        }

        public static async Task<T> ScalarAsync<T>(NpgsqlConnectionStringBuilder server, string sql)
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), default);
            await using var command = new NpgsqlCommand(sql, admin);
            return (T)(await command.ExecuteScalarAsync())!;
        }

        public async ValueTask DisposeAsync()
        {
            var roles = $"DROP ROLE IF EXISTS {AppLogin}; DROP ROLE IF EXISTS {Other}; DROP ROLE IF EXISTS {Dropped}; DROP ROLE IF EXISTS {Group}";
            await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(_stagingServer, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {StagingName} WITH (FORCE)", default);
            }
            await Production.DisposeAsync();
            foreach (var server in new[] { TestServers.Primary, TestServers.Alternate })
            {
                await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), default);
                await PgConnector.ExecuteAsync(admin, roles, default);
            }
            _dir.Dispose();
        }
    }
}
