using System.Globalization;
using Floyo.Functions.Tests.Support;
using Floyo.Functions.Timers;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Tests.Wal;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Functions.Tests.Timers;

/// <summary>
/// The Functions engine's half of "a failed WAL copy pages": the real IncrementalBackupTimer function starting the
/// real BackupOrchestrator on the in-process Durable host, against a real archiving cluster whose second copy
/// (Azurite) refuses our key. Two failing slots page once (PagerDuty, Slack, email on loopback); the next slot with
/// the copy fixed resolves it on each channel, once.
/// </summary>
public sealed class WalCopyAlertTimerTests
{
    private const string PagerPath = "v2/enqueue";
    private const string SlackPath = "services/T0001/B0002/slack-webhook-token-0123456789";
    private const string SmtpPassword = "smtp-Pa55word-0123456789";
    private const string WrongKey = BlobTestContainer.WrongKey;

    [Fact]
    public async Task The_incremental_timer_pages_once_for_a_refused_wal_copy_and_its_next_slot_with_the_copy_fixed_resolves_it()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        await using var container = await new BlobTestContainer(prefix: "walcopyfn").CreateAsync();
        await cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY)");
        var baseBackup = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url }, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);
        var good = Settings(cluster, hooks, smtp, container);
        var bad = new Dictionary<string, string?>(good) { ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = BlobTestContainer.WithKey(container.ConnectionString, WrongKey) };
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T05:59:58Z", CultureInfo.InvariantCulture));

        await using (var host = await WorkflowHost.StartAsync(bad))
        {
            foreach (var (slot, first) in new[] { ("20261126T060000Z", 1), ("20261126T120000Z", 101) })
            {
                await cluster.ExecuteAsync($"INSERT INTO orders SELECT generate_series({first}, {first + 99})");
                var start = await Timers(host, clock).IncrementalBackupAsync(new TimerInfo(), host.Client, default);
                Assert.Equal($"incremental-backup-{slot}", start.InstanceId);
                var state = await host.WaitAsync(start.InstanceId);
                Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
                var result = state.ReadOutputAs<BackupWorkflowResult>()!;
                Assert.Equal(IncrementalOutcome.Taken, result.Incremental!.Outcome);
                Assert.Equal(WorkflowOutcome.Failed, result.Outcome);
                Assert.False(Assert.Single(result.WalCopies!).Complete);
                clock.Advance(TimeSpan.FromHours(6));
            }
        }

        var trigger = Assert.Single(hooks.To(PagerPath)).Json;
        Assert.Equal("trigger", trigger.GetProperty("event_action").GetString());
        Assert.Equal("wal-copy:secondary", trigger.GetProperty("dedup_key").GetString());
        Assert.Equal("critical", trigger.GetProperty("payload").GetProperty("severity").GetString());
        var chat = Assert.Single(hooks.To(SlackPath)).Json.GetProperty("text").GetString()!;
        Assert.StartsWith(":rotating_light: *CRITICAL* The WAL archive's second copy failed", chat, StringComparison.Ordinal);
        Assert.Contains($"({container.Client.Uri.GetLeftPart(UriPartial.Path)}) is not complete after the incremental backup", chat, StringComparison.Ordinal);
        Assert.Contains("(HTTP 403", chat, StringComparison.Ordinal);
        var mail = Assert.Single(smtp.Mails);
        Assert.Equal("[critical] The WAL archive's second copy failed", mail.Header("Subject"));
        var wire = string.Concat(hooks.Posts.Select(p => p.Body)) + mail.Data;
        Assert.DoesNotContain(WrongKey, wire, StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpPassword, wire, StringComparison.Ordinal);

        await using (var host = await WorkflowHost.StartAsync(good))
        {
            await cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(201, 300)");
            var start = await Timers(host, clock).IncrementalBackupAsync(new TimerInfo(), host.Client, default);
            Assert.Equal("incremental-backup-20261126T180000Z", start.InstanceId);
            var result = (await host.WaitAsync(start.InstanceId)).ReadOutputAs<BackupWorkflowResult>()!;
            Assert.True(result.Outcome == WorkflowOutcome.Succeeded, result.Error);
            Assert.True(Assert.Single(result.WalCopies!).Complete);
        }

        Assert.Equal(["trigger", "resolve"], hooks.To(PagerPath).Select(p => p.Json.GetProperty("event_action").GetString()));
        Assert.Equal("wal-copy:secondary", hooks.To(PagerPath)[1].Json.GetProperty("dedup_key").GetString());
        Assert.StartsWith(":white_check_mark: *resolved* The WAL archive's second copy failed", hooks.To(SlackPath)[1].Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(["[critical] The WAL archive's second copy failed", "[resolved] The WAL archive's second copy failed"], smtp.Mails.Select(m => m.Header("Subject")));
    }

    private static TimerFunctions Timers(WorkflowHost host, FakeTimeProvider clock) =>
        new(new ScheduledStarter(host.Configuration, clock, NullLogger<ScheduledStarter>.Instance));

    private static Dictionary<string, string?> Settings(ArchivingCluster cluster, WebhookRecorder hooks, SmtpRecorder smtp, BlobTestContainer container) => new()
    {
        ["DATABASE_URL"] = cluster.Url,
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = cluster.Store,
        ["BACKUP_SECONDARY_STORE"] = "blob",
        ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = container.ConnectionString,
        ["BACKUP_SECONDARY_BLOB_CONTAINER"] = container.Name,
        ["BACKUP_SECONDARY_IMMUTABILITY_MODE"] = "off",
        ["INCREMENTAL_ARCHIVE_WAIT_SECONDS"] = "60",
        ["FLOYO_WORK_DIR"] = Path.Combine(cluster.Root, "work"),
        ["NOTIFY_PAGERDUTY_URL"] = hooks.Url(PagerPath),
        ["NOTIFY_PAGERDUTY_ROUTING_KEY"] = "pd-routing-key-0123456789abcdef",
        ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(SlackPath),
        ["NOTIFY_TIMEOUT_SECONDS"] = "2",
        ["SMTP_HOST"] = "127.0.0.1",
        ["SMTP_PORT"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["SMTP_SECURITY"] = "none",
        ["SMTP_USER"] = "dr-relay",
        ["SMTP_PASSWORD"] = SmtpPassword,
        ["SMTP_FROM"] = "Floyo DR <dr@floyo.example>",
        ["SMTP_TIMEOUT_SECONDS"] = "5",
        ["NOTIFY_EMAIL_TEAM"] = "oncall@floyo.example",
    };
}
