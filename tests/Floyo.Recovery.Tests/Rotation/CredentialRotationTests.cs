using System.Diagnostics;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Rotation;

public sealed class CredentialRotationTests
{
    [Fact]
    public async Task Init_creates_the_group_and_login_roles_once_and_a_second_run_changes_nothing()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        var provisioner = engine.GetRequiredService<CredentialProvisioner>();

        var first = await provisioner.InitAsync(default);
        Assert.Contains($"created group role {scenario.Group}", first.Changes);
        Assert.Contains($"created login role {scenario.Blue}", first.Changes);
        Assert.Contains($"granted CONNECT on {scenario.Database.Name} to {scenario.Group}", first.Changes);
        var second = await provisioner.InitAsync(default);
        Assert.Empty(second.Changes);

        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        await using var command = new NpgsqlCommand("""
            SELECT r.rolname, r.rolcanlogin, r.rolinherit, pg_has_role(r.oid, $1, 'MEMBER'),
                   coalesce((SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                             WHERE s.setrole = r.oid AND d.datname = $2), '{}')
            FROM pg_roles r WHERE r.rolname IN ($3, $4) ORDER BY 1
            """, admin)
        {
            Parameters = { new() { Value = scenario.Group }, new() { Value = scenario.Database.Name }, new() { Value = scenario.Blue }, new() { Value = scenario.Green } },
        };
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            Assert.True(reader.GetBoolean(1), "login roles can log in");
            Assert.True(reader.GetBoolean(2), "login roles inherit the group's grants");
            Assert.True(reader.GetBoolean(3), "login roles are members of the group");
            Assert.Contains($"role={scenario.Group}", reader.GetFieldValue<string[]>(4));
        }
        Assert.Equal(2, rows);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("keyvault")]
    public async Task Rotation_under_load_fails_no_connection_and_leaves_the_old_password_useless(string storeKind)
    {
        await using var scenario = await RotationScenario.CreateAsync(storeKind);
        await using var engine = scenario.Engine(graceSeconds: 2);
        var store = scenario.Store(engine);
        await scenario.InitAsync(engine);
        // The first credential: nothing to retire, so no grace wait.
        var initial = await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
        Assert.Equal(scenario.Blue, initial.Rotated.Single().Role);
        DatabaseCredential.TryParse((await store.GetCurrentAsync(RotationScenario.Secret, default))!.Value, out var original);

        // A long-lived session of the original role: it must be ended when that role is retired.
        await using var lingering = new NpgsqlConnection(scenario.AppConnection(original!).ConnectionString);
        await lingering.OpenAsync();

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var seen = new HashSet<string>();
        var attempts = 0;
        var loop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                attempts++;
                try
                {
                    // What an application does: read whatever the store holds now, then connect with it.
                    var current = await store.GetCurrentAsync(RotationScenario.Secret, default);
                    DatabaseCredential.TryParse(current!.Value, out var credential);
                    seen.Add(credential!.Username + "/" + current.Properties.Version);
                    await using var connection = new NpgsqlConnection(scenario.AppConnection(credential).ConnectionString);
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand("INSERT INTO notes (body) VALUES ('alive') RETURNING id", connection);
                    await command.ExecuteScalarAsync();
                }
                catch (Exception e)
                {
                    failures.Add(e.GetType().Name + ": " + e.Message);
                }
            }
        });

        await Task.Delay(500);
        var first = await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
        var second = await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
        await Task.Delay(500);
        await stop.CancelAsync();
        await loop;

        Assert.Empty(failures);
        Assert.True(attempts > 20, $"the loop only made {attempts} attempts");
        Assert.True(seen.Count >= 3, $"the loop saw {seen.Count} credentials; expected the original and both rotations");
        Assert.Equal(scenario.Green, first.Rotated.Single().Role);
        Assert.Equal(scenario.Blue, first.Rotated.Single().RetiredRole);
        Assert.True(first.Rotated.Single().SessionsEnded >= 1, "the lingering session of the retired role was ended");
        Assert.Equal(scenario.Blue, second.Rotated.Single().Role);

        Assert.Equal("28P01", await scenario.TryLoginAsync(original!));
        var enabled = await scenario.EnabledCredentialsAsync(store);
        var (version, credential) = Assert.Single(enabled);
        Assert.Null(await scenario.TryLoginAsync(credential));
        Assert.Equal(SecretTags.StateComplete, version.Tag(SecretTags.RotationState));
        Assert.Equal(scenario.Blue, version.Tag(SecretTags.Role));
        Assert.Equal(3, (await store.ListVersionsAsync(RotationScenario.Secret, default)).Count);
        await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var command = new NpgsqlCommand("SELECT 1", lingering);
            await command.ExecuteScalarAsync();
        });
    }

    [Fact]
    public async Task A_crash_between_any_two_steps_is_completed_by_a_rerun_and_no_enabled_credential_is_ever_broken()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        const double grace = 1;
        ServiceProvider Engine(IRotationCheckpoint? checkpoint = null) => scenario.Engine(grace, checkpoint);
        await using (var setup = Engine())
        {
            await scenario.InitAsync(setup);
            await setup.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
            await scenario.Store(setup).SetAsync("session-key", RandomSecret.Create(), new Dictionary<string, string> { [SecretTags.Rotation] = SecretTags.Random }, null, default);
        }

        // Learn how many steps a full rotation (database login and one random secret) has.
        var counter = new CrashAfter(int.MaxValue);
        await using (var counting = Engine(counter))
        {
            await counting.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        }
        var steps = counter.Reached;
        Assert.Contains("PostgresLogin:password-set", steps);
        Assert.Contains("PostgresLogin:old-role-retired", steps);
        Assert.Contains("Random:previous-disabled", steps);

        for (var k = 1; k < steps.Count; k++)
        {
            await using (var crashing = Engine(new CrashAfter(k)))
            {
                var crash = await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default));
                await AssertEveryEnabledCredentialWorksAsync(scenario, scenario.Store(crashing), $"after crash at step {k} ({steps[k - 1]})");
            }
            await using (var rerun = Engine())
            {
                var store = scenario.Store(rerun);
                await rerun.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
                var (version, _) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
                Assert.Equal(SecretTags.StateComplete, version.Tag(SecretTags.RotationState));
                Assert.Single(await store.ListVersionsAsync("session-key", default), v => v.Enabled);
                await AssertEveryEnabledCredentialWorksAsync(scenario, store, $"after the rerun following step {k} ({steps[k - 1]})");
                await AssertRetiredRoleIsLockedAsync(scenario, store);
            }
        }
    }

    private static async Task AssertEveryEnabledCredentialWorksAsync(RotationScenario scenario, ISecretStore store, string when)
    {
        var current = await store.GetCurrentAsync(RotationScenario.Secret, default);
        Assert.NotNull(current);
        foreach (var (version, credential) in await scenario.EnabledCredentialsAsync(store))
        {
            var sqlState = await scenario.TryLoginAsync(credential);
            Assert.True(sqlState is null, $"{when}: enabled version {version.Version} ({credential.Username}) does not log in: {sqlState}");
        }
    }

    /// <summary>Every earlier credential fails: its role has since been given an unknown password, or a new one.</summary>
    private static async Task AssertRetiredRoleIsLockedAsync(RotationScenario scenario, ISecretStore store)
    {
        var all = await scenario.AllSecretValuesAsync(store);
        var current = await store.GetCurrentAsync(RotationScenario.Secret, default);
        foreach (var value in all.Where(v => v != current!.Value))
        {
            if (DatabaseCredential.TryParse(value, out var old))
            {
                Assert.Equal("28P01", await scenario.TryLoginAsync(old!));
            }
        }
    }

    [Fact]
    public async Task Nothing_is_retired_before_the_grace_period_and_a_stale_plan_cannot_touch_the_active_role()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 3600);
        await scenario.InitAsync(engine);
        var rotator = engine.GetRequiredService<DatabaseCredentialRotator>();
        var store = scenario.Store(engine);

        var first = await rotator.PublishAsync(await rotator.PlanAsync("rot-first", null, default), default);
        // First rotation has no previous credential, so it may retire at once.
        await rotator.CompleteAsync((await rotator.EndOldSessionsAsync((await rotator.RetireOldRoleAsync((await rotator.DisablePreviousAsync(first, default)).Plan, default)).Plan, default)).Plan, default);

        // Two plans made from the same state: both target green. Only the first to publish may change it.
        var stale = await rotator.PlanAsync("rot-stale", null, default);
        var second = await rotator.PublishAsync(await rotator.PlanAsync("rot-second", null, default), default);
        var early = await Assert.ThrowsAnyAsync<RecoveryException>(() => rotator.DisablePreviousAsync(second, default));
        Assert.Contains("grace period", early.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await scenario.EnabledCredentialsAsync(store)).Count);

        var refused = await Assert.ThrowsAnyAsync<RecoveryException>(() => rotator.PublishAsync(stale, default));
        Assert.Contains("changed since", refused.Message, StringComparison.Ordinal);
        await AssertEveryEnabledCredentialWorksAsync(scenario, store, "after the refused stale plan");

        // A rerun now resumes the published rotation instead of starting another.
        var resumed = await rotator.PlanAsync("rot-third", null, default);
        Assert.Equal(RotationPhase.Retire, resumed.Phase);
        Assert.Equal("rot-second", resumed.RotationId);
    }

    [Fact]
    public async Task Rotation_before_init_and_a_foreign_credential_give_clear_errors()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        var runner = engine.GetRequiredService<RotationRunner>();
        var missing = await Assert.ThrowsAnyAsync<RecoveryException>(() => runner.RunAsync(new RotationRequest(TaggedSecrets: false), null, default));
        Assert.Equal($"login role '{scenario.Blue}' does not exist: run 'floyo-dr credentials init' first", missing.Message);
        Assert.Null(await scenario.Store(engine).GetCurrentAsync(RotationScenario.Secret, default));

        await scenario.Store(engine).SetAsync(RotationScenario.Secret, new DatabaseCredential("legacy_app", "pw-legacy-1234").ToJson(), new Dictionary<string, string>(), null, default);
        var foreign = await Assert.ThrowsAnyAsync<RecoveryException>(() => runner.RunAsync(new RotationRequest(TaggedSecrets: false), null, default));
        Assert.Contains("role 'legacy_app', which is neither", foreign.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-legacy", foreign.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_generated_secret_appears_in_any_log_line_error_or_cli_output()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var env = scenario.Settings(graceSeconds: 1);
        env["FLOYO_LOG_LEVEL"] = "Trace";
        var outputs = new List<string>();
        var init = await FloyoDr.RunAsync(env, "credentials", "init");
        Assert.True(init.ExitCode == 0, init.All);
        Assert.Contains($"issued the first credential: secret '{RotationScenario.Secret}'", init.StdOut, StringComparison.Ordinal);
        outputs.Add(init.All);
        await scenario.GrantAsync();
        var generated = await FloyoDr.RunAsync(env, "secrets", "set", "api-signing-key", "--generate", "--tag", "floyo-rotation=random");
        Assert.True(generated.ExitCode == 0, generated.All);
        outputs.Add(generated.All);
        await using (var engine = scenario.Engine(graceSeconds: 1))
        {
            await scenario.Store(engine).SetAsync("webhook-token", RandomSecret.Create(), new Dictionary<string, string> { [SecretTags.Rotation] = SecretTags.Random }, null, default);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
            // An error path too: a plan that went stale while it was carried.
            var rotator = engine.GetRequiredService<DatabaseCredentialRotator>();
            var stale = await rotator.PlanAsync("rot-stale", null, default);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
            outputs.Add((await Assert.ThrowsAnyAsync<RecoveryException>(() => rotator.PublishAsync(stale, default))).ToString());
        }
        var rotate = await FloyoDr.RunAsync(env, "rotate-credentials");
        Assert.True(rotate.ExitCode == 0, rotate.All);
        outputs.Add(rotate.All);
        Assert.Contains("rotated api-signing-key: version", rotate.StdOut, StringComparison.Ordinal);
        var rotateJson = await FloyoDr.RunAsync(env, "rotate-credentials", "--json");
        Assert.True(rotateJson.ExitCode == 0, rotateJson.All);
        outputs.Add(rotateJson.All);
        var listed = await FloyoDr.RunAsync(env, "secrets", "list", RotationScenario.Secret);
        Assert.Contains("disabled", listed.StdOut, StringComparison.Ordinal);
        outputs.Add(listed.All);
        outputs.Add((await FloyoDr.RunAsync(env, "secrets", "list", "--json")).All);
        // A failing run: the secrets file opened up to the group is refused, with one line.
        File.SetUnixFileMode(scenario.SecretsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var refused = await FloyoDr.RunAsync(env, "rotate-credentials");
        Assert.Equal((int)ErrorKind.RefusedForSafety, refused.ExitCode);
        Assert.Contains("error: the secrets file", refused.StdErr, StringComparison.Ordinal);
        outputs.Add(refused.All);
        File.SetUnixFileMode(scenario.SecretsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        outputs.Add(scenario.Logs.All);

        await using var reader = scenario.Engine(graceSeconds: 1);
        var secrets = await scenario.AllSecretValuesAsync(scenario.Store(reader));
        Assert.True(secrets.Count >= 10, $"expected many generated values, found {secrets.Count}");
        Assert.Contains("Published", scenario.Logs.All, StringComparison.Ordinal);
        var everything = string.Join("\n", outputs);
        foreach (var secret in secrets)
        {
            Assert.False(everything.Contains(secret, StringComparison.Ordinal), "a secret value appeared in the output");
        }
    }
}
