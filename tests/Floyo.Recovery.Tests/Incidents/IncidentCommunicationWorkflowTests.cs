using System.Globalization;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Notifications;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Tests.Incidents;

/// <summary>
/// The communication plan through the real orchestration on the in-process Durable host, its durable timers
/// scaled down to seconds (the plan's hours are settings). Slack, PagerDuty and the status page are a real HTTP
/// listener on loopback, email a loopback SMTP relay reached by MailKit.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class IncidentCommunicationWorkflowTests
{
    private const string StatusPath = "v1/pages/page-1/incidents";

    internal static async Task<DurableTaskTestHost> StartHostAsync(TempDirectory dir, WebhookRecorder hooks, SmtpRecorder smtp, CapturedLogs logs, params (string, string?)[] schedule)
    {
        var settings = new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = dir.Path,
            ["NOTIFY_TIMEOUT_SECONDS"] = "5",
            ["NOTIFY_PAGERDUTY_URL"] = hooks.Url(EmailChannelTests.PagerPath),
            ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(EmailChannelTests.SlackPath),
            ["INCIDENT_STATUSPAGE_URL"] = hooks.Url(StatusPath),
            ["INCIDENT_STATUSPAGE_AUTHORIZATION"] = "OAuth statuspage-api-key-0123",
        };
        foreach (var (key, value) in EmailChannelTests.Smtp(smtp.Port).Concat(schedule))
        {
            settings[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return await DurableTaskTestHost.StartAsync(r => r.AddFloyoWorkflows().AddFloyoIncidentStarter(), new DurableTaskTestHostOptions
        {
            Port = EmailChannelTests.FreePort(),
            ConfigureServices = services =>
            {
                services.AddSingleton<IConfiguration>(configuration);
                services.AddLogging(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(logs));
                services.AddFloyoRecovery();
            },
        });
    }

    private static async Task<IncidentRecord> WaitForAsync(IncidentBook book, string id, Func<IncidentRecord, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var record = await book.RequireAsync(id, default);
            if (done(record))
            {
                return record;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{what} never happened; sent so far: {string.Join(", ", record.Sent)}");
            await Task.Delay(100);
        }
    }

    private static TimeSpan At(IncidentRecord record, string step) => record.Timeline.Last(e => e.Step == step).At - record.OpenedAt;

    [Fact]
    public async Task Hourly_updates_the_customer_threshold_and_the_public_report_run_on_durable_timers_until_resolved()
    {
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        var logs = new CapturedLogs();
        // The plan's 45 min / 1 h / 4 h / 24 h, as 2 s / 2 s / 5 s / 7 s.
        await using var host = await StartHostAsync(dir, hooks, smtp, logs,
            ("INCIDENT_FIRST_UPDATE_AFTER", "00:00:02"), ("INCIDENT_UPDATE_INTERVAL", "00:00:02"), ("INCIDENT_CUSTOMER_THRESHOLD", "00:00:05"), ("INCIDENT_PUBLIC_REPORT_THRESHOLD", "00:00:07"));
        var book = host.Services.GetRequiredService<IncidentBook>();
        var opened = await book.OpenAsync(new IncidentOpening("Primary database lost", NotificationSeverity.Critical, "floyo-dr incident open", "alice", "assessing"), default);
        var instance = IncidentCommunicationOrchestrator.InstanceIdFor(opened.Id);
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncidentCommunicationOrchestrator), new IncidentCommunicationInput(opened.Id), new StartOrchestrationOptions(instance));

        // Immediately: pager, chat and the team's mail.
        await hooks.WaitForAsync(EmailChannelTests.PagerPath, p => p.Json.GetProperty("event_action").GetString() == "trigger", 1, TimeSpan.FromSeconds(30));
        await smtp.WaitForAsync(m => m.Header("Subject").Contains("Incident opened", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30));
        Assert.Contains(hooks.To(EmailChannelTests.SlackPath), p => p.Json.GetProperty("text").GetString()!.Contains("Incident opened: Primary database lost", StringComparison.Ordinal));

        // Past 7 s: at least two stakeholder updates, the status page, the customers, the public report.
        var past = await WaitForAsync(book, opened.Id, r => r.WasSent(CommunicationPlan.PublicReport) && r.Sent.Count(s => s.StartsWith("update-", StringComparison.Ordinal)) >= 2, "the public report");
        // Each update N falls due at 2 s + (N-1) x 2 s; a wake-up that comes late (a loaded machine) sends only the newest one due.
        var sentUpdates = past.Sent.Where(s => s.StartsWith("update-", StringComparison.Ordinal)).Select(s => int.Parse(s[7..], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(sentUpdates.Order(), sentUpdates);
        foreach (var n in sentUpdates)
        {
            Assert.True(At(past, CommunicationPlan.Update(n)) >= TimeSpan.FromSeconds(2 * n), $"update {n} at {At(past, CommunicationPlan.Update(n))}");
        }
        Assert.True(At(past, CommunicationPlan.StatusPage) >= TimeSpan.FromSeconds(5), $"status page at {At(past, CommunicationPlan.StatusPage)}");
        Assert.True(At(past, CommunicationPlan.PublicReport) >= TimeSpan.FromSeconds(7));
        Assert.True(File.Exists(Path.Combine(dir.Path, IncidentBook.PublicReportName(opened.Id))));
        var page = Assert.Single(hooks.To(StatusPath)).Json.GetProperty("incident");
        Assert.Equal("identified", page.GetProperty("status").GetString());
        Assert.Equal("Primary database lost", page.GetProperty("name").GetString());
        var updates = smtp.Mails.Where(m => m.Recipients.SequenceEqual(["cto@floyo.example"])).ToList();
        Assert.True(updates.Count >= 2);
        Assert.Contains("Stage: assessing. Elapsed: ", updates[0].Data, StringComparison.Ordinal);
        var customers = Assert.Single(smtp.Mails, m => m.Recipients.Contains("a@customer.example"));
        Assert.Equal("Service disruption: Primary database lost", customers.Header("Subject"));
        Assert.DoesNotContain(opened.Id, customers.Data, StringComparison.Ordinal);

        // A person's update, as an external event: told to the team at once, and in the next stakeholder update.
        var (_, change) = await book.ChangeAsync(opened.Id, "bob", "restoring", "restore 60% done", TimeSpan.FromHours(9), resolves: false, default);
        await host.Client.RaiseEventAsync(instance, IncidentCommunicationOrchestrator.ChangedEvent, change);
        await WaitForAsync(book, opened.Id, r => r.WasSent(CommunicationPlan.Change(1)), "the update");
        await hooks.WaitForAsync(EmailChannelTests.SlackPath, p => p.Json.GetProperty("text").GetString()!.Contains("bob: stage restoring; projected RTO 9 h 00 min; restore 60% done", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30));
        await smtp.WaitForAsync(m => m.Data.Contains("Stage: restoring.", StringComparison.Ordinal) && m.Data.Contains("Projected RTO: 9 h 00 min", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30));

        // Resolved: the page is resolved, everyone is told, the post-mortem holds the timeline, the workflow ends.
        var (_, resolution) = await book.ChangeAsync(opened.Id, "bob", null, "restored from the 02:00 backup", null, resolves: true, default);
        await host.Client.RaiseEventAsync(instance, IncidentCommunicationOrchestrator.ChangedEvent, resolution);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await host.Client.WaitForInstanceCompletionAsync(instance, getInputsAndOutputs: true, wait.Token);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);
        var result = done.ReadOutputAs<IncidentCommunicationResult>()!;
        Assert.Equal(IncidentBook.PostMortemName(opened.Id), result.PostMortem);
        foreach (var step in new[] { "opened", "status-page", "customer-email", "public-report", "change-1", "resolved", "post-mortem" })
        {
            Assert.Contains(step, result.Sent);
        }
        Assert.Equal(["trigger", "resolve"], hooks.To(EmailChannelTests.PagerPath).Select(p => p.Json.GetProperty("event_action").GetString()));
        Assert.All(hooks.To(EmailChannelTests.PagerPath), p => Assert.Equal(opened.Id, p.Json.GetProperty("dedup_key").GetString()));
        Assert.Equal(["identified", "resolved"], hooks.To(StatusPath).Select(p => p.Json.GetProperty("incident").GetProperty("status").GetString()));
        Assert.Equal(2, smtp.Mails.Count(m => m.Recipients.Contains("a@customer.example")));
        var postMortem = await File.ReadAllTextAsync(Path.Combine(dir.Path, IncidentBook.PostMortemName(opened.Id)));
        foreach (var row in new[] { "| opened |", $"| {CommunicationPlan.Update(sentUpdates[0])} |", "| status-page |", "| customer-email |", "| public-report |", "| update | by bob: stage restoring", "| resolved |", "restored from the 02:00 backup" })
        {
            Assert.Contains(row, postMortem, StringComparison.Ordinal);
        }
        // No update after the resolution, and no secret anywhere.
        var updatesAfter = smtp.Mails.Count(m => m.Recipients.SequenceEqual(["cto@floyo.example"]));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(updatesAfter, smtp.Mails.Count(m => m.Recipients.SequenceEqual(["cto@floyo.example"])));
        var stored = string.Concat(Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        foreach (var secret in new[] { "statuspage-api-key-0123", EmailChannelTests.SmtpPassword, EmailChannelTests.SlackPath })
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_projected_RTO_past_the_threshold_tells_customers_at_once_without_waiting_for_it()
    {
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        // The plan's defaults: nothing would fire by time within this test.
        await using var host = await StartHostAsync(dir, hooks, smtp, new CapturedLogs());
        var book = host.Services.GetRequiredService<IncidentBook>();
        var opened = await book.OpenAsync(new IncidentOpening("Region outage", NotificationSeverity.Warning, "floyo-dr incident open", "alice", "failing over", TimeSpan.FromHours(6)), default);
        var instance = IncidentCommunicationOrchestrator.InstanceIdFor(opened.Id);
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(IncidentCommunicationOrchestrator), new IncidentCommunicationInput(opened.Id), new StartOrchestrationOptions(instance));

        var record = await WaitForAsync(book, opened.Id, r => r.WasSent(CommunicationPlan.CustomerEmail), "the customer email");
        Assert.True(At(record, CommunicationPlan.CustomerEmail) < TimeSpan.FromMinutes(1));
        Assert.Single(hooks.To(StatusPath));
        Assert.False(record.WasSent(CommunicationPlan.Update(1)));
        Assert.False(record.WasSent(CommunicationPlan.PublicReport));
        // A warning: chat, no page (the default route), and the workflow waits for the 45-minute update.
        Assert.Empty(hooks.To(EmailChannelTests.PagerPath));
        // The record is saved by an activity before the orchestration publishes its next phase: wait for that, briefly.
        IncidentCommunicationStatus? waiting = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline && waiting?.Phase != IncidentCommunicationOrchestrator.Waiting; await Task.Delay(100))
        {
            var status = await host.Client.GetInstanceAsync(instance, getInputsAndOutputs: true);
            waiting = status!.ReadCustomStatusAs<IncidentCommunicationStatus>();
        }
        Assert.Equal(IncidentCommunicationOrchestrator.Waiting, waiting!.Phase);
        Assert.Equal(opened.OpenedAt + TimeSpan.FromMinutes(45), waiting.NextAt);
        await host.Client.TerminateInstanceAsync(instance, "test over");
    }
}
