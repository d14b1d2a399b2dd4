using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Breach;

/// <summary>
/// The Q4 drill: the breach-recovery workflow in drill mode against staging. Staging here is a database on
/// the same server as production, the riskiest arrangement (roles are shared), so anything the drill did to
/// production would show.
/// </summary>
public sealed class BreachDrillTests
{
    [Fact]
    public async Task The_security_breach_drill_runs_the_breach_workflow_on_staging_measures_and_leaves_production_untouched()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var hooks = new WebhookRecorder();
        var staging = scenario.Database.Name + "_stg";
        DatabaseCredential credential;
        string backup;
        await using (var engine = scenario.Engine(graceSeconds: 0))
        {
            await scenario.InitAsync(engine);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
            await scenario.Database.ExecuteAsync("INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 30) g");
            var taken = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
            var entry = await engine.GetRequiredService<BackupCatalog>().FindAsync(taken.Metadata.Name, default);
            Assert.True((await engine.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, default)).Passed);
            backup = entry.Name;
            credential = await BreachTests.CurrentCredentialAsync(scenario, engine);
        }

        // Production as the application uses it: a live session, grants, the current credential.
        await using var app = new NpgsqlConnection(scenario.AppConnection(credential).ConnectionString);
        await app.OpenAsync();
        var aclBefore = await BreachTests.AccessAsync(scenario);
        var granteesBefore = await BreachWorkflowTests.GranteesAsync(scenario.Database.Name);
        var versionsBefore = await VersionsAsync(scenario);

        await using var host = await WorkflowTests.StartHostAsync(scenario, 600,
            ("STAGING_DATABASE_URL", TestServers.Url(TestServers.Primary, staging)),
            ("NOTIFY_PAGERDUTY_URL", hooks.Url("pager")),
            ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url("chat")),
            ("BREACH_REMINDER_INTERVAL", "01:00:00"));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DrillOrchestrator),
            new DrillInput(DrillScenario.SecurityBreach, null, "test", new RetrySettings(3, TimeSpan.FromSeconds(1), 1.0)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var done = await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);
        var report = done.ReadOutputAs<DrillReport>()!;

        Assert.True(report.Status == DrillStatus.Passed, string.Join("; ", report.Failures));
        Assert.Equal(backup, report.Backup);
        Assert.NotNull(report.Rto);
        Assert.NotNull(report.Rpo);
        Assert.True(report.Rto < TimeSpan.FromMinutes(3) && report.Rpo > TimeSpan.Zero);
        var steps = report.Steps.Select(s => s.Name).ToList();
        Assert.Equal(["choose backup", "restore onto staging"], steps.Take(2));
        Assert.Contains("breach: isolated", steps);
        Assert.Contains("breach: credentials-named", steps);
        Assert.Contains("breach: restored", steps);
        Assert.Contains("breach: writes-resumed", steps);
        Assert.Contains("breach: gdpr-notified", steps);
        Assert.All(report.Steps, s => Assert.True(s.Succeeded, $"{s.Name}: {s.Detail}"));
        Assert.Contains($"'{staging}'", report.Steps.Single(s => s.Name == "breach: restored").Detail, StringComparison.Ordinal);
        Assert.Contains("would rotate floyo-app-db", report.Steps.Single(s => s.Name == "breach: credentials-named").Detail, StringComparison.Ordinal);

        // Production: the same grants, the application's session still alive, its credential unchanged and working.
        Assert.Equal(aclBefore, await BreachTests.AccessAsync(scenario));
        Assert.Equal(granteesBefore, await BreachWorkflowTests.GranteesAsync(scenario.Database.Name));
        await using (var query = new NpgsqlCommand("SELECT count(*) FROM notes", app))
        {
            Assert.Equal(30L, await query.ExecuteScalarAsync());
        }
        Assert.Null(await scenario.TryLoginAsync(credential));
        Assert.Equal(versionsBefore, await VersionsAsync(scenario));
        // Its backups carry no legal hold; the drill's evidence is not held either, so nothing waits for a person.
        await using var reader = scenario.Engine(graceSeconds: 0);
        var store = reader.GetRequiredService<IBackupStore>();
        Assert.All(await reader.GetRequiredService<BackupCatalog>().ListAsync(default), b => Assert.False(b.LegalHold));
        var held = new List<string>();
        await foreach (var item in store.ListAsync("", default))
        {
            if (item.LegalHold)
            {
                held.Add(item.Name);
            }
        }
        Assert.Empty(held);
        // Nobody was paged for a drill; the chat channel heard of it, marked as one.
        Assert.Empty(hooks.To("pager"));
        Assert.All(hooks.To("chat"), p => Assert.Contains("[DRILL]", p.Body, StringComparison.Ordinal));

        // Staging went through it all and is open again, with the backup's data.
        await using (var admin = await PgConnector.OpenAsync(TestServers.Primary, default))
        await using (var count = new NpgsqlCommand("SELECT has_database_privilege($1, $2, 'CONNECT')", admin) { Parameters = { new() { Value = scenario.Group }, new() { Value = staging } } })
        {
            Assert.Equal(true, await count.ExecuteScalarAsync());
        }
        Assert.Equal(30L, await ScalarAsync<long>(DatabaseUrl.WithDatabase(TestServers.Primary, staging), "SELECT count(*) FROM notes"));
        var markdown = await BreachTests.ReadAsync(store, report.MarkdownName);
        Assert.Contains("breach: writes-resumed", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_breach_drill_that_cannot_recover_fails_and_pages()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var hooks = new WebhookRecorder();
        await using (var engine = scenario.Engine(graceSeconds: 0))
        {
            // A backup that was never verified: the breach workflow finds nothing clean to restore.
            await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        }
        await using var host = await WorkflowTests.StartHostAsync(scenario, 600,
            ("STAGING_DATABASE_URL", TestServers.Url(TestServers.Alternate, scenario.Database.Name + "_stg")),
            ("NOTIFY_PAGERDUTY_URL", hooks.Url("pager")));
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DrillOrchestrator), new DrillInput(DrillScenario.SecurityBreach, null, "test", RetrySettings.Once));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var report = (await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token)).ReadOutputAs<DrillReport>()!;

        Assert.Equal(DrillStatus.Failed, report.Status);
        Assert.Contains("no verified, non-suspect backup", report.Failures[0], StringComparison.Ordinal);
        var page = Assert.Single(hooks.To("pager")).Json;
        Assert.Equal($"DR drill {report.Id} failed", page.GetProperty("payload").GetProperty("summary").GetString()!.Split(':')[0]);
    }

    private static async Task<string> VersionsAsync(RotationScenario scenario)
    {
        await using var engine = scenario.Engine(graceSeconds: 0);
        var versions = await engine.GetRequiredService<ISecretStore>().ListVersionsAsync(RotationScenario.Secret, default);
        return JsonSerializer.Serialize(versions.Select(v => new { v.Version, v.Enabled, v.Tags }));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnectionStringBuilder target, string sql)
    {
        await using var connection = await PgConnector.OpenAsync(target, default);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
