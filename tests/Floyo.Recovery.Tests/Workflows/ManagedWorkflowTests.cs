using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Breach;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Models;

namespace Floyo.Recovery.Tests.Workflows;

/// <summary>Drills, credential rotation and breach recovery with a NOSUPERUSER admin (managed PostgreSQL).</summary>
public sealed class ManagedWorkflowTests
{
    [Fact]
    public async Task Restore_test_drill_onto_staging_on_another_server_passes()
    {
        await using var scene = await ManagedScene.CreateAsync();
        var name = await scene.BackupAsync();
        // The admin is a member of the owner only to act as it: it is not one of the application's roles to re-create
        // on a new server, nor the login a drill proves.
        var roles = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(scene.BackupDir, name + ".meta.json"))).RootElement
            .GetProperty("facts").GetProperty("roles").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Contains(scene.AppLogin, roles);
        Assert.DoesNotContain(ManagedScene.Admin, roles);

        var run = await FloyoDr.RunAsync(scene.Env(), "drill", "--scenario", "restore-test", "--json");

        Assert.True(run.ExitCode == 0, run.All);
        var report = JsonDocument.Parse(run.StdOut).RootElement;
        Assert.Equal("passed", report.GetProperty("status").GetString());
        // Staging had none of the roles: the admin created them (and joined them to set owners), proved the copy,
        // then dropped the copy and the roles again.
        var last = report.GetProperty("steps").EnumerateArray().Last();
        Assert.Equal("drop the roles the drill created", last.GetProperty("name").GetString());
        Assert.True(last.GetProperty("succeeded").GetBoolean(), last.GetProperty("detail").GetString());
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
        await using var left = new Npgsql.NpgsqlCommand(
            "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = ANY(@roles)) + (SELECT count(*) FROM pg_database WHERE datname = @staging)", admin);
        left.Parameters.AddWithValue("roles", new[] { scene.AppLogin, scene.Owner, scene.Group });
        left.Parameters.AddWithValue("staging", scene.StagingName);
        Assert.Equal(0L, await left.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Credentials_init_and_rotation_work_and_the_old_password_stops_working()
    {
        await using var scenario = await ManagedAppAsync();
        var env = Env(scenario);

        var init = await FloyoDr.RunAsync(env, "credentials", "init");
        Assert.True(init.ExitCode == 0, init.All);
        await scenario.GrantAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        var original = await BreachTests.CurrentCredentialAsync(scenario, engine);
        Assert.Null(await scenario.TryLoginAsync(original));

        var rotate = await FloyoDr.RunAsync(env, "rotate-credentials", "--only", "database");

        Assert.True(rotate.ExitCode == 0, rotate.All);
        var current = await BreachTests.CurrentCredentialAsync(scenario, engine);
        Assert.NotEqual(original.Username, current.Username);
        Assert.Null(await scenario.TryLoginAsync(current));
        Assert.Equal("28P01", await scenario.TryLoginAsync(original));
    }

    [Fact]
    public async Task Breach_recovery_isolates_rotates_restores_and_gives_access_back_as_it_was()
    {
        await using var scenario = await ManagedAppAsync();
        var env = Env(scenario);
        Assert.Equal(0, (await FloyoDr.RunAsync(env, "credentials", "init")).ExitCode);
        await scenario.GrantAsync();
        var backup = await FloyoDr.RunAsync(env, "backup", "--full", "--verify");
        Assert.True(backup.ExitCode == 0, backup.All);
        await scenario.Database.ExecuteAsync("INSERT INTO notes (body) VALUES ('planted')");
        await using var engine = scenario.Engine(graceSeconds: 0);
        var compromised = await BreachTests.CurrentCredentialAsync(scenario, engine);
        var acl = await ManagedScene.AclAsync(scenario.Database.Name);
        await Task.Delay(1100);

        var run = await FloyoDr.RunAsync(env, "breach", "--since", BreachTests.At(DateTimeOffset.UtcNow), "--approve-as", "bob", "--gdpr-notified", "--json");

        Assert.True(run.ExitCode == 0, run.All);
        var report = JsonSerializer.Deserialize<BreachReport>(run.StdOut, Json.Options)!;
        Assert.Equal(BreachOutcome.Recovered, report.Outcome);
        Assert.Equal(1L, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM notes"));
        // CONNECT exactly as before: the admin's own grant, added so it could restore, was taken back on release.
        Assert.Equal(acl, await ManagedScene.AclAsync(scenario.Database.Name));
        var current = await BreachTests.CurrentCredentialAsync(scenario, engine);
        Assert.Null(await scenario.TryLoginAsync(current));
        Assert.Equal("28P01", await scenario.TryLoginAsync(compromised));
    }

    [Fact]
    public async Task Breach_recovery_the_admin_could_not_finish_is_refused_before_isolating_naming_the_grant()
    {
        await using var scenario = await ManagedAppAsync();
        var env = Env(scenario);
        var owner = scenario.Group.Replace("_grp", "_own", StringComparison.Ordinal);
        Assert.Equal(0, (await FloyoDr.RunAsync(env, "credentials", "init")).ExitCode);
        await scenario.GrantAsync();
        var backup = await FloyoDr.RunAsync(env, "backup", "--full", "--verify");
        Assert.True(backup.ExitCode == 0, backup.All);
        await scenario.Database.ExecuteAsync($"REVOKE {owner} FROM {ManagedScene.Admin}");
        var acl = await ManagedScene.AclAsync(scenario.Database.Name);
        await Task.Delay(1100);

        var run = await FloyoDr.RunAsync(env, "breach", "--since", BreachTests.At(DateTimeOffset.UtcNow), "--approve-as", "bob", "--gdpr-notified");

        Cli.CliErrorTests.AssertOneLineError(run, $"run GRANT \"{owner}\" TO \"{ManagedScene.Admin}\"; and retry");
        Assert.Equal(acl, await ManagedScene.AclAsync(scenario.Database.Name));
        Assert.False(Directory.Exists(Path.Combine(scenario.BackupDir, "evidence")));
    }

    /// <summary>The rotation scenario's database, owned (with its table) by an owner role the admin is a member of, as the docs ask.</summary>
    private static async Task<RotationScenario> ManagedAppAsync()
    {
        var scenario = await RotationScenario.CreateAsync();
        var owner = scenario.Group.Replace("_grp", "_own", StringComparison.Ordinal);
        await scenario.Database.ExecuteAsync($"""
            CREATE ROLE {owner} NOLOGIN;
            GRANT {owner} TO {ManagedScene.Admin};
            ALTER DATABASE {scenario.Database.Name} OWNER TO {owner};
            ALTER TABLE notes OWNER TO {owner};
            INSERT INTO notes (body) VALUES ('before');
            """);
        return scenario;
    }

    private static Dictionary<string, string?> Env(RotationScenario scenario) =>
        new(scenario.Settings(0))
        {
            ["DATABASE_URL"] = TestServers.Url(ManagedScene.Primary, scenario.Database.Name),
            ["BREACH_REMINDER_INTERVAL"] = "06:00:00",
        };
}
