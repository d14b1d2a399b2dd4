using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Notifications;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// A failed copy of the WAL archive pages: the 6-hourly incremental (floyo-dr's embedded engine) whose second copy
/// refuses (Azurite with a wrong account key) raises <c>wal-copy:secondary</c> on PagerDuty, Slack and email once,
/// repeats nothing while it stays failed, and the next complete copy resolves it. <c>wal copy</c> alerts only
/// with <c>--alert</c>; <c>backup --base</c>'s copy step raises and resolves the same incident. The real floyo-dr binary, a real archiving cluster, loopback PagerDuty/Slack and SMTP.
/// </summary>
public sealed class WalCopyAlertTests
{
    private const string SlackPath = EmailChannelTests.SlackPath;
    private const string PagerPath = EmailChannelTests.PagerPath;

    private const string WrongKey = BlobTestContainer.WrongKey;

    [Fact]
    public async Task A_refusing_second_copy_pages_once_per_episode_from_the_incremental_and_from_wal_copy_with_alert_and_the_next_good_copy_resolves_it()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        await using var container = await new BlobTestContainer(prefix: "walcopy").CreateAsync();
        await cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY)");
        var baseBackup = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url }, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);
        var good = Settings(cluster, hooks, smtp, container);
        var bad = new Dictionary<string, string?>(good) { ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = BlobTestContainer.WithKey(container.ConnectionString, WrongKey) };
        int Pages() => hooks.To(PagerPath).Count;

        await cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(1, 100)");
        var first = await FloyoDr.RunAsync(bad, "backup", "--incremental");
        var second = await FloyoDr.RunAsync(bad, "backup", "--incremental");
        var byHand = await FloyoDr.RunAsync(bad, "wal", "copy");
        var byHandAlert = await FloyoDr.RunAsync(bad, "wal", "copy", "--alert");

        // The incremental itself is taken (primary store); its copy is not, and the command says so.
        Assert.True(first.ExitCode != 0, first.All);
        Assert.StartsWith("incremental base/incremental_", first.StdOut, StringComparison.Ordinal);
        Assert.Contains("its second copy is not complete", first.StdErr, StringComparison.Ordinal);
        Assert.True(second.ExitCode != 0 && byHand.ExitCode != 0 && byHandAlert.ExitCode != 0, second.All + byHand.All + byHandAlert.All);
        // One episode: one page, one chat message, one mail, whatever ran after.
        var trigger = Assert.Single(hooks.To(PagerPath)).Json;
        Assert.Equal("trigger", trigger.GetProperty("event_action").GetString());
        Assert.Equal(WalCopyAlerter.KeyOf(BackupSource.Secondary), trigger.GetProperty("dedup_key").GetString());
        Assert.Equal("wal-copy:secondary", trigger.GetProperty("dedup_key").GetString());
        Assert.Equal("critical", trigger.GetProperty("payload").GetProperty("severity").GetString());
        var summary = trigger.GetProperty("payload").GetProperty("summary").GetString()!;
        Assert.Contains("The WAL archive's second copy failed", summary, StringComparison.Ordinal);
        var chat = Assert.Single(hooks.To(SlackPath)).Json.GetProperty("text").GetString()!;
        Assert.StartsWith(":rotating_light: *CRITICAL* The WAL archive's second copy failed", chat, StringComparison.Ordinal);
        // Which copy (its store) and why (the store's answer), after the incremental backup.
        Assert.Contains($"The second copy of the WAL archive ({Location(container)}) is not complete after the incremental backup: 0 refused, 1 failed: access to {Location(container)} was denied (HTTP 403", chat, StringComparison.Ordinal);
        var mail = Assert.Single(smtp.Mails);
        Assert.Equal("[critical] The WAL archive's second copy failed", mail.Header("Subject"));
        Assert.Equal("wal-copy:secondary", mail.Header("X-Floyo-Incident"));
        var wire = string.Concat(hooks.Posts.Select(p => p.Body)) + string.Concat(smtp.Mails.Select(m => m.Data)) + first.All + second.All + byHand.All + byHandAlert.All;
        Assert.DoesNotContain(WrongKey, wire, StringComparison.Ordinal);
        Assert.DoesNotContain(AccountKey(container.ConnectionString), wire, StringComparison.Ordinal);
        Assert.DoesNotContain(EmailChannelTests.SmtpPassword, wire, StringComparison.Ordinal);

        // Fixed: the next incremental's complete copy resolves it on every channel, once.
        await cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(101, 200)");
        var fixedRun = await FloyoDr.RunAsync(good, "backup", "--incremental");
        Assert.True(fixedRun.ExitCode == 0, fixedRun.All);
        Assert.Equal(["trigger", "resolve"], hooks.To(PagerPath).Select(p => p.Json.GetProperty("event_action").GetString()));
        Assert.Equal("wal-copy:secondary", hooks.To(PagerPath)[1].Json.GetProperty("dedup_key").GetString());
        Assert.StartsWith(":white_check_mark: *resolved* The WAL archive's second copy failed", hooks.To(SlackPath)[1].Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("[resolved] The WAL archive's second copy failed", smtp.Mails.Last().Header("Subject"));
        var quiet = await FloyoDr.RunAsync(good, "wal", "copy", "--alert");
        Assert.True(quiet.ExitCode == 0, quiet.All);
        Assert.Equal(2, Pages());

        // wal copy --alert opens a new episode by itself and its own next good run resolves it; without --alert it never alerts.
        var withoutAlert = await FloyoDr.RunAsync(bad, "wal", "copy");
        Assert.True(withoutAlert.ExitCode != 0, withoutAlert.All);
        Assert.Equal(2, Pages());
        var alerted = await FloyoDr.RunAsync(bad, "wal", "copy", "--alert");
        Assert.True(alerted.ExitCode != 0, alerted.All);
        Assert.Equal(3, Pages());
        Assert.Contains("is not complete after 'floyo-dr wal copy'", hooks.To(SlackPath)[2].Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        var resolved = await FloyoDr.RunAsync(good, "wal", "copy", "--alert");
        Assert.True(resolved.ExitCode == 0, resolved.All);
        Assert.Equal(["trigger", "resolve", "trigger", "resolve"], hooks.To(PagerPath).Select(p => p.Json.GetProperty("event_action").GetString()));
        Assert.Equal(4, smtp.Mails.Count);
    }

    [Fact]
    public async Task A_refusing_second_copy_after_backup_base_pages_once_the_incremental_keeps_the_same_episode_and_the_next_good_base_backup_resolves_it()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        await using var container = await new BlobTestContainer(prefix: "walcopybase").CreateAsync();
        await cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY)");
        var good = Settings(cluster, hooks, smtp, container);
        var bad = new Dictionary<string, string?>(good) { ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = BlobTestContainer.WithKey(container.ConnectionString, WrongKey) };
        // The base backup runs as the server's user (as on the database host); its work folder is its own default.
        Dictionary<string, string?> AsPostgres(Dictionary<string, string?> settings) => settings.Where(s => s.Key != "FLOYO_WORK_DIR").ToDictionary();

        var refused = await cluster.FloyoDrAsPostgresAsync(AsPostgres(bad), "backup", "--base");

        // The base backup is in the primary store; its copy is not: non-zero, and one page on every channel.
        Assert.True(refused.ExitCode != 0, refused.All);
        Assert.StartsWith("base backup base/base_", refused.StdOut, StringComparison.Ordinal);
        Assert.Contains("its second copy is not complete", refused.StdErr, StringComparison.Ordinal);
        var trigger = Assert.Single(hooks.To(PagerPath)).Json;
        Assert.Equal(("trigger", "wal-copy:secondary", "critical"),
            (trigger.GetProperty("event_action").GetString(), trigger.GetProperty("dedup_key").GetString(), trigger.GetProperty("payload").GetProperty("severity").GetString()));
        var chat = Assert.Single(hooks.To(SlackPath)).Json.GetProperty("text").GetString()!;
        Assert.StartsWith(":rotating_light: *CRITICAL* The WAL archive's second copy failed", chat, StringComparison.Ordinal);
        Assert.Contains($"The second copy of the WAL archive ({Location(container)}) is not complete after 'floyo-dr backup --base': 0 refused, 1 failed: access to {Location(container)} was denied (HTTP 403", chat, StringComparison.Ordinal);
        Assert.Equal("wal-copy:secondary", Assert.Single(smtp.Mails).Header("X-Floyo-Incident"));

        // The incremental finds the same failure: the same incident, still open, nothing sent.
        await cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(1, 100)");
        var incremental = await FloyoDr.RunAsync(bad, "backup", "--incremental");
        Assert.True(incremental.ExitCode != 0, incremental.All);
        Assert.Single(hooks.To(PagerPath));
        Assert.Single(hooks.To(SlackPath));
        Assert.Single(smtp.Mails);

        // Fixed: the next base backup's complete copy resolves it, once per channel.
        var fixedRun = await cluster.FloyoDrAsPostgresAsync(AsPostgres(good), "backup", "--base");
        Assert.True(fixedRun.ExitCode == 0, fixedRun.All);
        Assert.Equal(["trigger", "resolve"], hooks.To(PagerPath).Select(p => p.Json.GetProperty("event_action").GetString()));
        Assert.Equal("wal-copy:secondary", hooks.To(PagerPath)[1].Json.GetProperty("dedup_key").GetString());
        var resolvedChat = hooks.To(SlackPath)[1].Json.GetProperty("text").GetString()!;
        Assert.StartsWith(":white_check_mark: *resolved* The WAL archive's second copy failed", resolvedChat, StringComparison.Ordinal);
        Assert.Contains("complete again ('floyo-dr backup --base')", resolvedChat, StringComparison.Ordinal);
        Assert.Equal("[resolved] The WAL archive's second copy failed", smtp.Mails.Last().Header("Subject"));
        Assert.Equal(2, smtp.Mails.Count);
        var wire = string.Concat(hooks.Posts.Select(p => p.Body)) + string.Concat(smtp.Mails.Select(m => m.Data)) + refused.All + incremental.All + fixedRun.All;
        Assert.DoesNotContain(WrongKey, wire, StringComparison.Ordinal);
        Assert.DoesNotContain(AccountKey(container.ConnectionString), wire, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void The_incident_names_the_copy_and_why_keeps_the_store_location_and_redacts_secrets()
    {
        var location = "https://acct.blob.core.windows.net/dr-copy";
        var failed = new WalCopyResult(BackupSource.Tertiary, location, 3, 0, 0, 10, 100, "000000010000000000000007",
            [$"wal/000000010000000000000008.zst is already in the third copy {location} with different content"],
            ["the connection failed: Server=db;Password=hunter2;AccountKey=abc== and https://hooks.slack.com/services/T/B/secret"], 1.5);

        var incident = WalCopyAlerter.IncidentOf(failed, "the incremental backup");

        Assert.True(incident.Failed);
        Assert.Equal("wal-copy:tertiary", incident.Key);
        Assert.Equal(NotificationSeverity.Critical, incident.Severity);
        Assert.Equal("The WAL archive's third copy failed", incident.Title);
        Assert.StartsWith($"The third copy of the WAL archive ({location}) is not complete after the incremental backup: 1 refused, 1 failed: REFUSED: wal/000000010000000000000008.zst is already in the third copy {location} with different content", incident.Text, StringComparison.Ordinal);
        Assert.Contains("ends at segment 000000010000000000000007", incident.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", incident.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("abc==", incident.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", incident.Text, StringComparison.Ordinal);

        var complete = WalCopyAlerter.IncidentOf(failed with { Conflicts = [], Problems = [] }, "'floyo-dr wal copy'");
        Assert.False(complete.Failed);
        Assert.Equal("wal-copy:tertiary", complete.Key);
        Assert.Contains("complete again ('floyo-dr wal copy')", complete.Text, StringComparison.Ordinal);
    }

    internal static Dictionary<string, string?> Settings(ArchivingCluster cluster, WebhookRecorder hooks, SmtpRecorder smtp, BlobTestContainer container)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = cluster.Url,
            ["BACKUP_STORE"] = "filesystem",
            ["BACKUP_DIR"] = cluster.Store,
            ["BACKUP_SECONDARY_STORE"] = "blob",
            ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = container.ConnectionString,
            ["BACKUP_SECONDARY_BLOB_CONTAINER"] = container.Name,
            // Azurite has no immutability (docs/azure.md).
            ["BACKUP_SECONDARY_IMMUTABILITY_MODE"] = "off",
            ["INCREMENTAL_ARCHIVE_WAIT_SECONDS"] = "60",
            ["FLOYO_WORK_DIR"] = Path.Combine(cluster.Root, "work"),
            ["NOTIFY_PAGERDUTY_URL"] = hooks.Url(PagerPath),
            ["NOTIFY_PAGERDUTY_ROUTING_KEY"] = "pd-routing-key-0123456789abcdef",
            ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(SlackPath),
            ["NOTIFY_TIMEOUT_SECONDS"] = "2",
            ["SMTP_TIMEOUT_SECONDS"] = "5",
        };
        foreach (var (key, value) in EmailChannelTests.Smtp(smtp.Port))
        {
            settings[key] = value;
        }
        return settings;
    }

    internal static string Location(BlobTestContainer container) => container.Client.Uri.GetLeftPart(UriPartial.Path);

    internal static string AccountKey(string connectionString) =>
        connectionString.Split(';').Select(p => p.Trim()).Single(p => p.StartsWith("AccountKey=", StringComparison.OrdinalIgnoreCase))["AccountKey=".Length..];
}
