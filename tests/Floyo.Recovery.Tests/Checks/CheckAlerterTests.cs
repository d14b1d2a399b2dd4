using System.Text.Json;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Checks;

/// <summary>
/// Findings become incidents through the real notifier, posting to a real HTTP listener on loopback (Slack and
/// PagerDuty stand-ins): one incident per check, sent once, resolved when the check passes; "not configured" never alerts.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class CheckAlerterTests : IDisposable
{
    private const string SlackPath = "services/T1/B2/slack-secret-path";
    private const string PagerPath = "v2/enqueue";

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    public void Dispose() => _dir.Dispose();

    private ServiceProvider Engine(WebhookRecorder hooks) => Support.Engine.Create(new Dictionary<string, string?>
    {
        ["BACKUP_DIR"] = _dir.Path,
        ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(SlackPath),
        ["NOTIFY_PAGERDUTY_URL"] = hooks.Url(PagerPath),
        ["NOTIFY_PAGERDUTY_ROUTING_KEY"] = "routing-key-0123456789",
        ["NOTIFY_TIMEOUT_SECONDS"] = "5",
    }, _clock);

    private async Task FailedRunsAsync(IBackupStore store, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var record = new { workflow = "backup", instanceId = $"failed-{i}", outcome = WorkflowOutcome.Failed, at = _clock.GetUtcNow(), result = new { } };
            await store.WriteAllAsync(RecordRunActivity.NameFor("backup", $"failed-{i}"), JsonSerializer.SerializeToUtf8Bytes(record, Recovery.Backups.Json.Options), ObjectRetention.None, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_finding_is_posted_once_while_it_lasts_and_resolved_when_the_check_passes_and_not_configured_never_alerts()
    {
        await using var hooks = new WebhookRecorder();
        await using var engine = Engine(hooks);
        var store = engine.GetRequiredService<IBackupStore>();
        var checks = engine.GetServices<ICheck>().Where(c => c.Name is "error-rate" or "database-size" or "replication-lag").ToList();
        var runner = new CheckRunner(checks, _clock, NullLogger<CheckRunner>.Instance);
        var alerter = engine.GetRequiredService<CheckAlerter>();
        await FailedRunsAsync(store, 3);

        var first = await runner.RunAsync(CancellationToken.None);
        var opened = await alerter.ApplyAsync(first, CancellationToken.None);
        var again = await alerter.ApplyAsync(await runner.RunAsync(CancellationToken.None), CancellationToken.None);

        Assert.True(first.HasFindings);
        Assert.Equal(CheckStatus.NotConfigured, first.Results.Single(r => r.Check == "database-size").Status);
        Assert.Equal(CheckStatus.NotConfigured, first.Results.Single(r => r.Check == "replication-lag").Status);
        Assert.Equal([("check:error-rate", IncidentAlerts.Opened)], opened.Select(a => (a.Key, a.Action)));
        Assert.Equal([("check:error-rate", IncidentAlerts.StillOpen)], again.Select(a => (a.Key, a.Action)));
        var slack = Assert.Single(hooks.To(SlackPath));
        Assert.Contains("Health check error-rate found a problem\nunusual failure rate: 3 of 3 workflow runs failed", slack.Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Empty(hooks.To(PagerPath)); // a warning goes to chat, not the pager
        Assert.Equal("check:error-rate", Assert.Single(await engine.GetRequiredService<IncidentAlerts>().ListOpenAsync(CancellationToken.None)).Key);

        // Two days on, the failures have left the window: the check passes and its incident resolves, once.
        _clock.Advance(TimeSpan.FromDays(2));
        var passed = await runner.RunAsync(CancellationToken.None);
        var resolved = await alerter.ApplyAsync(passed, CancellationToken.None);
        var quiet = await alerter.ApplyAsync(await runner.RunAsync(CancellationToken.None), CancellationToken.None);

        Assert.False(passed.HasFindings);
        Assert.Equal([("check:error-rate", IncidentAlerts.Resolved)], resolved.Select(a => (a.Key, a.Action)));
        Assert.Empty(quiet);
        Assert.Equal(2, hooks.To(SlackPath).Count);
        Assert.Contains("resolved", hooks.To(SlackPath)[1].Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Empty(await engine.GetRequiredService<IncidentAlerts>().ListOpenAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_check_that_throws_is_a_warning_saying_it_could_not_run()
    {
        await using var hooks = new WebhookRecorder();
        var unreachable = Support.Engine.Create(new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = _dir.Path,
            // Nothing listens on port 1: the connection is refused.
            ["DATABASE_URL"] = "postgresql://nobody:secret-password@127.0.0.1:1/floyo",
            ["DATABASE_CAPACITY_GB"] = "10",
        }, _clock);
        await using var _ = unreachable;
        var check = unreachable.GetServices<ICheck>().Single(c => c.Name == "database-size");

        var report = await new CheckRunner([check], _clock, NullLogger<CheckRunner>.Instance).RunAsync(CancellationToken.None);

        var result = Assert.Single(report.Results);
        Assert.Equal(CheckStatus.Finding, result.Status);
        Assert.Equal(NotificationSeverity.Warning, result.Severity);
        Assert.StartsWith("could not run: cannot reach PostgreSQL at 127.0.0.1:1", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-password", result.Detail, StringComparison.Ordinal);
    }
}
