using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Notifications;

/// <summary>
/// Issue 11's "done when": a nightly backup that fails for each of the three causes (bad credentials, pg_dump
/// missing, a store that refuses writes) reaches PagerDuty, Slack and email within one run, once (a second failing
/// run sends nothing), and the next good backup resolves it on every channel, once. The real floyo-dr binary, real
/// PostgreSQL, Azurite for the refusing store; PagerDuty and Slack are a loopback HTTP listener, the relay a loopback SMTP server.
/// </summary>
public sealed class NightlyBackupFailureTests : IAsyncLifetime
{
    private const string SlackPath = EmailChannelTests.SlackPath;
    private const string PagerPath = EmailChannelTests.PagerPath;
    private const string RoutingKey = "pd-routing-key-0123456789abcdef";

    // Azurite's account with a key that is valid base64 but not the account's: every request is refused (403).
    private const string WrongKey = BlobTestContainer.WrongKey;

    private readonly TempDirectory _dir = new();
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await _db.ExecuteAsync("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 50)");
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _dir.Dispose();
    }

    public enum Cause
    {
        BadCredentials,
        PgDumpMissing,
        StoreRefusing,
    }

    [Theory]
    [InlineData(Cause.BadCredentials, "authentication failed for user")]
    [InlineData(Cause.PgDumpMissing, "pg_dump not found in PG_BIN_DIR")]
    [InlineData(Cause.StoreRefusing, "403")]
    public async Task A_failed_nightly_backup_reaches_pagerduty_slack_and_email_once_and_the_next_good_backup_resolves_it(Cause cause, string reason)
    {
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        await using var container = await new BlobTestContainer(prefix: "nf").CreateAsync();
        var good = Settings(hooks, smtp, container);
        var bad = new Dictionary<string, string?>(good);
        switch (cause)
        {
            case Cause.BadCredentials:
                bad["DATABASE_URL"] = TestServers.Url(new NpgsqlConnectionStringBuilder(TestServers.Primary.ConnectionString) { Password = "not-the-password" }, _db.Name);
                break;
            case Cause.PgDumpMissing:
                bad["PG_BIN_DIR"] = Path.Combine(_dir.Path, "no-such-bin");
                break;
            case Cause.StoreRefusing:
                bad["BACKUP_BLOB_CONNECTION_STRING"] = BlobTestContainer.WithKey(container.ConnectionString, WrongKey);
                break;
        }

        var first = await FloyoDr.RunAsync(bad, "backup", "--full");
        var second = await FloyoDr.RunAsync(bad, "backup", "--full");

        Assert.True(first.ExitCode != 0, first.All);
        Assert.True(second.ExitCode != 0, second.All);
        Assert.Contains(reason, first.StdErr, StringComparison.Ordinal);
        var trigger = Assert.Single(hooks.To(PagerPath)).Json;
        Assert.Equal("trigger", trigger.GetProperty("event_action").GetString());
        Assert.Equal($"backup:{_db.Name}", trigger.GetProperty("dedup_key").GetString());
        Assert.Equal("critical", trigger.GetProperty("payload").GetProperty("severity").GetString());
        Assert.Contains(reason, trigger.GetProperty("payload").GetProperty("summary").GetString(), StringComparison.Ordinal);
        var chat = Assert.Single(hooks.To(SlackPath)).Json.GetProperty("text").GetString()!;
        Assert.StartsWith($":rotating_light: *CRITICAL* Backup of {_db.Name} failed", chat, StringComparison.Ordinal);
        var mail = Assert.Single(smtp.Mails);
        Assert.Equal($"[critical] Backup of {_db.Name} failed", mail.Header("Subject"));
        Assert.Equal($"backup:{_db.Name}", mail.Header("X-Floyo-Incident"));
        Assert.Equal(["oncall@floyo.example", "dba@floyo.example"], mail.Recipients);
        var wire = string.Concat(hooks.Posts.Select(p => p.Body)) + mail.Data + first.All + second.All;
        Assert.DoesNotContain("not-the-password", wire, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, wire, StringComparison.Ordinal);
        Assert.DoesNotContain(EmailChannelTests.SmtpPassword, wire, StringComparison.Ordinal);

        // A refusing store cannot keep the open incident: the work folder does, until the store is back.
        // (in a folder of its own store: work/alerts/<store hash>/notifications/open)
        var alerts = Path.Combine(_dir.Path, "work", "alerts");
        int KeptLocally() => Directory.Exists(alerts)
            ? Directory.GetFiles(alerts, "*.json", SearchOption.AllDirectories).Count(f => f.Contains($"{Path.DirectorySeparatorChar}notifications{Path.DirectorySeparatorChar}open{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            : 0;
        Assert.Equal(cause == Cause.StoreRefusing ? 1 : 0, KeptLocally());

        var fixedRun = await FloyoDr.RunAsync(good, "backup", "--full");

        Assert.True(fixedRun.ExitCode == 0, fixedRun.All);
        var pages = hooks.To(PagerPath).Select(p => p.Json).ToList();
        Assert.Equal(["trigger", "resolve"], pages.Select(p => p.GetProperty("event_action").GetString()));
        Assert.Equal($"backup:{_db.Name}", pages[1].GetProperty("dedup_key").GetString());
        var chats = hooks.To(SlackPath).Select(p => p.Json.GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, chats.Count);
        Assert.StartsWith($":white_check_mark: *resolved* Backup of {_db.Name} failed", chats[1], StringComparison.Ordinal);
        Assert.Equal([$"[critical] Backup of {_db.Name} failed", $"[resolved] Backup of {_db.Name} failed"], smtp.Mails.Select(m => m.Header("Subject")));
        Assert.Equal(0, KeptLocally());

        // Nothing is left open, and the next good backup sends nothing.
        var again = await FloyoDr.RunAsync(good, "backup", "--full");
        Assert.True(again.ExitCode == 0, again.All);
        Assert.Equal(4, hooks.Posts.Count);
        Assert.Equal(2, smtp.Mails.Count);
    }

    private Dictionary<string, string?> Settings(WebhookRecorder hooks, SmtpRecorder smtp, BlobTestContainer container)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = _db.Url,
            ["BACKUP_STORE"] = "blob",
            ["BACKUP_BLOB_CONNECTION_STRING"] = container.ConnectionString,
            ["BACKUP_BLOB_CONTAINER"] = container.Name,
            // Azurite has no immutability (docs/azure.md); the store is otherwise the deployment's.
            ["BACKUP_IMMUTABILITY_MODE"] = "off",
            ["FLOYO_WORK_DIR"] = Path.Combine(_dir.Path, "work"),
            ["NOTIFY_PAGERDUTY_URL"] = hooks.Url(PagerPath),
            ["NOTIFY_PAGERDUTY_ROUTING_KEY"] = RoutingKey,
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
}
