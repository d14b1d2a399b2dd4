using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>Each scenario end to end: production on the primary cluster, staging on the alternate (a different, empty server).</summary>
public sealed class DrillTests
{
    [Fact]
    public async Task Server_failure_restores_onto_the_other_server_and_the_app_login_reads()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.BackupAsync("--verify");
        var drill = await scene.DrillAsync("server-failure");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        Assert.Equal("passed", drill.Json.GetProperty("status").GetString());
        var login = drill.Steps.Single(s => s.GetProperty("name").GetString() == "application login");
        Assert.Contains($"role '{scene.AppLogin}' connected and read 300 rows", login.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(drill.Json.GetProperty("rpo").GetString() is not null && drill.Json.GetProperty("rto").GetString() is not null);
        await scene.AssertRolesCreatedAndDroppedAsync(drill.Steps);
    }

    [Fact]
    public async Task Restore_test_verifies_and_the_report_is_stored_listed_and_printed()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.BackupAsync();
        var drill = await scene.DrillAsync("restore-test");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        var id = drill.Json.GetProperty("id").GetString()!;

        var history = await FloyoDr.RunAsync(scene.Env, "drill", "history");
        Assert.Contains(id, history.StdOut, StringComparison.Ordinal);
        Assert.Contains("passed", history.StdOut, StringComparison.Ordinal);
        var report = await FloyoDr.RunAsync(scene.Env, "report", "--latest");
        Assert.True(report.ExitCode == 0, report.All);
        Assert.Contains($"# DR drill {id}: PASSED", report.StdOut, StringComparison.Ordinal);
        Assert.Contains("| RTO (incident to verified service) |", report.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(scene.BackupDir, "reports", "drills", id + ".json")));
        Assert.True((File.GetUnixFileMode(Path.Combine(scene.BackupDir, "reports", "drills", id + ".md")) & UnixFileMode.UserWrite) == 0, "reports are write-once");
    }

    [Fact]
    public async Task Database_corruption_is_detected_repaired_or_restored_and_verified()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.BackupAsync();
        var drill = await scene.DrillAsync("database-corruption");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        var steps = drill.Steps.Select(s => (Name: s.GetProperty("name").GetString()!, Detail: s.GetProperty("detail").GetString()!)).ToList();
        Assert.Contains(steps, s => s.Name == "integrity checks" && s.Detail.Contains("is invalid", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Name.StartsWith("repair in place", StringComparison.Ordinal) && s.Detail.Contains("REINDEX", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Name == "integrity checks" && s.Detail.Contains("rows, expected 300", StringComparison.Ordinal));
        Assert.Equal("not repairable: restore from backup", steps[^2].Name);
        Assert.Equal("drop the roles the drill created", steps[^1].Name);
    }

    [Fact]
    public async Task Drill_whose_rpo_exceeds_its_target_fails_and_says_why()
    {
        await using var scene = await Scene.CreateAsync(("RPO_TARGET", "00:00:01"));
        await scene.BackupAsync();
        await Task.Delay(2000);
        var drill = await scene.DrillAsync("restore-test");
        Assert.NotEqual(0, drill.Run.ExitCode);
        Assert.Equal("failed", drill.Json.GetProperty("status").GetString());
        var why = drill.Json.GetProperty("failures")[0].GetString()!;
        Assert.Matches(@"^RPO \d+\.\ds exceeds the target 1\.0s \(within the maximum 24h00m00s\)$", why);
        var report = await FloyoDr.RunAsync(scene.Env, "report", "--id", drill.Json.GetProperty("id").GetString()!);
        Assert.Contains("## Why it did not pass", report.StdOut, StringComparison.Ordinal);
        Assert.Contains("MISSED target", report.StdOut, StringComparison.Ordinal);
        // A failed drill pages: with no channel configured, the alert is recorded in the store.
        var alert = JsonDocument.Parse(File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(scene.BackupDir, "notifications"), "*-failed.json")))).RootElement.GetProperty("notification");
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.Equal($"DR drill {drill.Json.GetProperty("id").GetString()} failed", alert.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_flagged_backup_is_never_the_one_a_drill_restores()
    {
        await using var scene = await Scene.CreateAsync();
        var good = await scene.BackupAsync("--verify");
        await scene.Production.ExecuteAsync("DELETE FROM accounts WHERE id > 10");
        await Task.Delay(1100);
        var gutted = await scene.BackupAsync("--verify");
        foreach (var scenario in new[] { "restore-test", "server-failure" })
        {
            var drill = await scene.DrillAsync(scenario);
            Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
            Assert.Equal(good, drill.Json.GetProperty("backup").GetString());
            Assert.NotEqual(gutted, drill.Json.GetProperty("backup").GetString());
        }
    }

    [Fact]
    public async Task Security_breach_runs_the_breach_workflow_on_staging_and_passes()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.BackupAsync("--verify");
        scene.Env["FLOYO_SECRETS_FILE"] = Path.Combine(scene.BackupDir, "no-secrets.json");
        var drill = await scene.DrillAsync("security-breach");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        Assert.Equal("passed", drill.Json.GetProperty("status").GetString());
        var steps = drill.Steps.Select(s => s.GetProperty("name").GetString()!).ToList();
        Assert.Contains("breach: isolated", steps);
        Assert.Contains("breach: restored", steps);
        Assert.Contains("breach: writes-resumed", steps);
        Assert.True(drill.Json.GetProperty("rto").GetString() is not null && drill.Json.GetProperty("rpo").GetString() is not null);
        await scene.AssertRolesCreatedAndDroppedAsync(drill.Steps);
        Assert.Equal(300, await scene.Production.ScalarAsync<long>("SELECT count(*) FROM accounts"));
    }

    [Fact]
    public async Task Staging_that_names_production_is_refused()
    {
        await using var scene = await Scene.CreateAsync();
        await scene.BackupAsync();
        var env = new Dictionary<string, string?>(scene.Env) { ["STAGING_DATABASE_URL"] = scene.Production.Url };
        var run = await FloyoDr.RunAsync(env, "drill", "--scenario", "restore-test");
        Cli.CliErrorTests.AssertOneLineError(run, "drill restore-test-");
        Assert.Contains("never run against production", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(300, await scene.Production.ScalarAsync<long>("SELECT count(*) FROM accounts"));
    }

    [Fact]
    public async Task Datacenter_outage_restores_only_from_the_second_copy_with_the_primary_container_gone()
    {
        await using var primary = new BlobTestContainer(prefix: "p");
        await using var secondary = new BlobTestContainer(prefix: "s");
        await using var scene = await Scene.CreateAsync(
            ("BACKUP_STORE", "blob"), ("BACKUP_BLOB_CONNECTION_STRING", primary.ConnectionString), ("BACKUP_BLOB_CONTAINER", primary.Name),
            ("BACKUP_IMMUTABILITY_MODE", "off"), ("BACKUP_SECONDARY_STORE", "blob"),
            ("BACKUP_SECONDARY_BLOB_CONNECTION_STRING", secondary.ConnectionString), ("BACKUP_SECONDARY_BLOB_CONTAINER", secondary.Name));
        var backup = await scene.BackupAsync("--verify");

        // Without a second copy the scenario cannot pass, and says why.
        var noCopy = new Dictionary<string, string?>(scene.Env) { ["BACKUP_SECONDARY_STORE"] = "none" };
        var refused = await FloyoDr.RunAsync(noCopy, "drill", "--scenario", "datacenter-outage");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("no second copy is configured", refused.StdErr, StringComparison.Ordinal);

        await primary.Client.DeleteAsync();
        var drill = await scene.DrillAsync("datacenter-outage");
        Assert.True(drill.Run.ExitCode == 0, drill.Run.All);
        Assert.Equal(backup, drill.Json.GetProperty("backup").GetString());
        // The standby was checked first: with the primary gone, the copy holds a good backup and the tools are fit.
        Assert.Equal("standby readiness", drill.Steps[0].GetProperty("name").GetString());
        Assert.Contains($"newest good backup {backup}", drill.Steps[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("tools fit for PostgreSQL 15: pg_dump 15", drill.Steps[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(secondary.Name, drill.Steps.Single(s => s.GetProperty("name").GetString() == "choose backup").GetProperty("detail").GetString(), StringComparison.Ordinal);
        await scene.AssertRolesCreatedAndDroppedAsync(drill.Steps);
        var id = drill.Json.GetProperty("id").GetString()!;
        Assert.True((await secondary.Client.GetBlobClient($"reports/drills/{id}.md").ExistsAsync()).Value, "the report goes to the copy that survived");
    }

    [Fact]
    public async Task Datacenter_outage_fails_at_standby_readiness_when_a_copy_lags_is_unreachable_or_the_tools_are_too_old()
    {
        await using var primary = new BlobTestContainer(prefix: "p");
        await using var secondary = new BlobTestContainer(prefix: "s");
        using var third = new TempDirectory();
        await using var scene = await Scene.CreateAsync(
            ("BACKUP_STORE", "blob"), ("BACKUP_BLOB_CONNECTION_STRING", primary.ConnectionString), ("BACKUP_BLOB_CONTAINER", primary.Name),
            ("BACKUP_IMMUTABILITY_MODE", "off"), ("BACKUP_SECONDARY_STORE", "blob"),
            ("BACKUP_SECONDARY_BLOB_CONNECTION_STRING", secondary.ConnectionString), ("BACKUP_SECONDARY_BLOB_CONTAINER", secondary.Name),
            ("BACKUP_TERTIARY_STORE", "filesystem"), ("BACKUP_TERTIARY_DIR", third.Path));
        await scene.BackupAsync("--verify");

        // Ready: both copies hold the newest backup, the tools are the server's major.
        var ready = await scene.DrillAsync("datacenter-outage");
        Assert.True(ready.Run.ExitCode == 0, ready.Run.All);
        var detail = ready.Steps[0].GetProperty("detail").GetString()!;
        Assert.Contains($"second copy {TestServers.BlobEndpoint}/{secondary.Name} holds the newest backup", detail, StringComparison.Ordinal);
        Assert.Contains($"third copy {third.Path} holds the newest backup", detail, StringComparison.Ordinal);

        // The newest backup never reached the third copy (it was down), an old pg_restore: every finding is named.
        var newest = await scene.BackupAsync("--verify");
        File.Delete(Path.Combine(third.Path, newest));
        using var bin = new TempDirectory();
        FakeTools.Real(bin.Path, "pg_dump");
        FakeTools.Real(bin.Path, "pg_basebackup");
        FakeTools.Write(bin.Path, "pg_restore", "echo 'pg_restore (PostgreSQL) 12.0'");
        var env = new Dictionary<string, string?>(scene.Env) { ["PG_BIN_DIR"] = bin.Path };
        var run = await FloyoDr.RunAsync(env, "drill", "--scenario", "datacenter-outage", "--json");
        Assert.NotEqual(0, run.ExitCode);
        var steps = JsonDocument.Parse(run.StdOut).RootElement.GetProperty("steps").EnumerateArray().ToList();
        var step = Assert.Single(steps);
        Assert.Equal("standby readiness", step.GetProperty("name").GetString());
        Assert.False(step.GetProperty("succeeded").GetBoolean());
        var why = step.GetProperty("detail").GetString()!;
        Assert.StartsWith("the standby is not ready: ", why, StringComparison.Ordinal);
        Assert.Contains($"the third copy {third.Path} does not hold the newest backup {newest}: incomplete", why, StringComparison.Ordinal);
        Assert.Contains("pg_restore is version 12.0 but the server is version 15", why, StringComparison.Ordinal);
        Assert.DoesNotContain("second copy", why, StringComparison.Ordinal);
        Assert.Contains("the standby is not ready", run.StdErr, StringComparison.Ordinal);

        // A copy that cannot be reached is a finding of its own (the third here: the drill's report goes to the
        // second, so that one must answer); a missing tool is named too.
        File.Delete(Path.Combine(bin.Path, "pg_basebackup"));
        env["BACKUP_TERTIARY_STORE"] = "blob";
        env["BACKUP_TERTIARY_BLOB_CONTAINER"] = "offsite";
        env["BACKUP_TERTIARY_BLOB_CONNECTION_STRING"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;";
        var down = await FloyoDr.RunAsync(env, "drill", "--scenario", "datacenter-outage", "--json");
        Assert.NotEqual(0, down.ExitCode);
        var downWhy = JsonDocument.Parse(down.StdOut).RootElement.GetProperty("steps")[0].GetProperty("detail").GetString()!;
        Assert.Contains("the third copy http://127.0.0.1:9/devstoreaccount1/offsite is unreachable: cannot reach blob storage", downWhy, StringComparison.Ordinal);
        Assert.Contains($"pg_basebackup not found in PG_BIN_DIR ({bin.Path})", downWhy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_scenario_is_a_clear_error()
    {
        await using var scene = await Scene.CreateAsync();
        var run = await FloyoDr.RunAsync(scene.Env, "drill", "--scenario", "meteor-strike");
        Cli.CliErrorTests.AssertOneLineError(run, "unknown drill scenario 'meteor-strike'");
    }

    /// <summary>Production (primary cluster) with an application login that reads through a group role; staging on the alternate cluster.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();

        private Scene(TestDatabase production, string suffix, (string, string?)[] extra)
        {
            Production = production;
            AppLogin = $"floyo_app_{suffix}";
            Group = $"floyo_rw_{suffix}";
            StagingName = $"staging_{suffix}";
            Env = CliEnvironment.For(production, _dir.Path, [("STAGING_DATABASE_URL", TestServers.Url(TestServers.Alternate, StagingName)), .. extra]);
        }

        public TestDatabase Production { get; }

        public string AppLogin { get; }

        public string Group { get; }

        public string StagingName { get; }

        public string BackupDir => _dir.Path;

        public Dictionary<string, string?> Env { get; }

        public static async Task<Scene> CreateAsync(params (string, string?)[] extra)
        {
            var suffix = Guid.NewGuid().ToString("N")[..8];
            var production = await TestDatabase.CreateAsync();
            var scene = new Scene(production, suffix, extra);
            await production.ExecuteAsync($"""
                CREATE ROLE {scene.Group} NOLOGIN;
                CREATE ROLE {scene.AppLogin} LOGIN PASSWORD 'prod-only-{suffix}' IN ROLE {scene.Group};
                CREATE TABLE accounts (id int PRIMARY KEY, name text, email text);
                CREATE INDEX accounts_name ON accounts (name);
                CREATE INDEX accounts_email ON accounts (email);
                INSERT INTO accounts SELECT g, 'name ' || g, 'a' || g || '@example.com' FROM generate_series(1, 300) g;
                GRANT SELECT ON accounts TO {scene.Group};
                """);
            return scene;
        }

        public async Task<string> BackupAsync(params string[] extra)
        {
            var run = await FloyoDr.RunAsync(Env, ["backup", "--full", "--json", .. extra]);
            Assert.True(run.ExitCode == 0, run.All);
            return JsonDocument.Parse(run.StdOut).RootElement.GetProperty("backup").GetProperty("name").GetString()!;
        }

        public async Task<(CliResult Run, JsonElement Json, List<JsonElement> Steps)> DrillAsync(string scenario)
        {
            var run = await FloyoDr.RunAsync(Env, "drill", "--scenario", scenario, "--json");
            var json = JsonDocument.Parse(run.StdOut).RootElement;
            return (run, json, [.. json.GetProperty("steps").EnumerateArray()]);
        }

        /// <summary>
        /// Staging (the alternate cluster) had none of production's roles: the drill created them, proved the
        /// restored copy on it, then dropped the copy and the roles.
        /// </summary>
        public async Task AssertRolesCreatedAndDroppedAsync(List<JsonElement> steps)
        {
            Assert.Contains(steps, s => s.GetProperty("detail").GetString()!.Contains("created missing roles: ", StringComparison.Ordinal)
                && s.GetProperty("detail").GetString()!.Contains(AppLogin, StringComparison.Ordinal));
            Assert.Equal("drop the roles the drill created", steps[^1].GetProperty("name").GetString());
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
            await using var command = new Npgsql.NpgsqlCommand(
                $"SELECT (SELECT count(*) FROM pg_roles WHERE rolname IN ('{AppLogin}', '{Group}')) + (SELECT count(*) FROM pg_database WHERE datname = '{StagingName}')", admin);
            Assert.Equal(0L, await command.ExecuteScalarAsync());
        }

        public async ValueTask DisposeAsync()
        {
            await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {StagingName} WITH (FORCE); DROP ROLE IF EXISTS {AppLogin}; DROP ROLE IF EXISTS {Group}", default);
            }
            await Production.DisposeAsync();
            await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {AppLogin}; DROP ROLE IF EXISTS {Group}", default);
            }
            _dir.Dispose();
        }
    }
}
