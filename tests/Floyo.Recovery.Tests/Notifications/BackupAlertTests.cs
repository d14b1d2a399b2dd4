using System.Net;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Notifications;

/// <summary>
/// `floyo-dr backup --full` (the daily timer's orchestration) against real PostgreSQL, with a real loopback HTTP
/// server standing in for PagerDuty and Slack: one incident per cause, sent once, resolved by the next good backup.
/// </summary>
public sealed class BackupAlertTests : IAsyncLifetime
{
    private const string SlackPath = "services/T0001/B0002/slack-webhook-token-0123456789";
    private const string PagerPath = "v2/enqueue";
    private const string RoutingKey = "pd-routing-key-0123456789abcdef";

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

    private string BadCredentials => TestServers.Url(new NpgsqlConnectionStringBuilder(TestServers.Primary.ConnectionString) { Password = "not-the-password" }, _db.Name);

    private Dictionary<string, string?> Settings(string databaseUrl, string? pagerUrl, string? slackUrl) => new()
    {
        ["DATABASE_URL"] = databaseUrl,
        ["BACKUP_DIR"] = Path.Combine(_dir.Path, "backups"),
        ["FLOYO_WORK_DIR"] = Path.Combine(_dir.Path, "work"),
        ["NOTIFY_PAGERDUTY_URL"] = pagerUrl,
        ["NOTIFY_PAGERDUTY_ROUTING_KEY"] = pagerUrl is null ? null : RoutingKey,
        ["NOTIFY_SLACK_WEBHOOK_URL"] = slackUrl,
        ["NOTIFY_TIMEOUT_SECONDS"] = "2",
    };

    private string[] OpenIncidents => Directory.Exists(Path.Combine(_dir.Path, "backups", "notifications", "open"))
        ? Directory.GetFiles(Path.Combine(_dir.Path, "backups", "notifications", "open"))
        : [];

    [Fact]
    public async Task A_backup_failing_with_bad_credentials_pages_once_across_two_runs_and_the_next_good_backup_resolves_it()
    {
        await using var hooks = new WebhookRecorder();
        var bad = Settings(BadCredentials, hooks.Url(PagerPath), hooks.Url(SlackPath));

        var first = await FloyoDr.RunAsync(bad, "backup", "--full");
        var second = await FloyoDr.RunAsync(bad, "backup", "--full");

        Assert.NotEqual(0, first.ExitCode);
        Assert.NotEqual(0, second.ExitCode);
        var trigger = Assert.Single(hooks.To(PagerPath)).Json;
        Assert.Equal("trigger", trigger.GetProperty("event_action").GetString());
        Assert.Equal($"backup:{_db.Name}", trigger.GetProperty("dedup_key").GetString());
        Assert.Equal(RoutingKey, trigger.GetProperty("routing_key").GetString());
        Assert.Contains($"Backup of {_db.Name} failed", trigger.GetProperty("payload").GetProperty("summary").GetString(), StringComparison.Ordinal);
        var chat = Assert.Single(hooks.To(SlackPath)).Json.GetProperty("text").GetString()!;
        Assert.Contains($"*CRITICAL* Backup of {_db.Name} failed", chat, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", string.Concat(hooks.Posts.Select(p => p.Body)), StringComparison.Ordinal);
        Assert.Single(OpenIncidents);

        var good = await FloyoDr.RunAsync(Settings(_db.Url, hooks.Url(PagerPath), hooks.Url(SlackPath)), "backup", "--full");

        Assert.True(good.ExitCode == 0, good.All);
        var pages = hooks.To(PagerPath).Select(p => p.Json).ToList();
        Assert.Equal(2, pages.Count);
        Assert.Equal("resolve", pages[1].GetProperty("event_action").GetString());
        Assert.Equal($"backup:{_db.Name}", pages[1].GetProperty("dedup_key").GetString());
        var chats = hooks.To(SlackPath).Select(p => p.Json.GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, chats.Count);
        Assert.StartsWith(":white_check_mark: *resolved* Backup of", chats[1], StringComparison.Ordinal);
        Assert.Empty(OpenIncidents);

        // A good backup with nothing open sends nothing; no second copy is configured, which is no alert either.
        var again = await FloyoDr.RunAsync(Settings(_db.Url, hooks.Url(PagerPath), hooks.Url(SlackPath)), "backup", "--full");
        Assert.True(again.ExitCode == 0, again.All);
        Assert.Equal(4, hooks.Posts.Count);
    }

    [Fact]
    public async Task A_dead_pager_fails_no_backup_and_is_reported_through_slack()
    {
        await using var slack = new WebhookRecorder();
        await using var deadPager = new WebhookRecorder { Answer = HttpStatusCode.ServiceUnavailable };

        var failed = await FloyoDr.RunAsync(Settings(BadCredentials, deadPager.Url(PagerPath), slack.Url(SlackPath)), "backup", "--full");

        // The backup's own error, not the pager's.
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("authentication failed for user", failed.All, StringComparison.Ordinal);
        Assert.Equal(2, deadPager.To(PagerPath).Count); // one retry after a 5xx
        var chats = slack.To(SlackPath).Select(p => p.Json.GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, chats.Count);
        Assert.Contains($"*CRITICAL* Backup of {_db.Name} failed", chats[0], StringComparison.Ordinal);
        Assert.Contains("Alert channel down: pagerduty", chats[1], StringComparison.Ordinal);
        Assert.Contains("HTTP 503", chats[1], StringComparison.Ordinal);
        Assert.DoesNotContain(PagerPath, chats[1], StringComparison.Ordinal);

        // The good backup succeeds although the pager is still down, and Slack hears it resolved.
        var good = await FloyoDr.RunAsync(Settings(_db.Url, deadPager.Url(PagerPath), slack.Url(SlackPath)), "backup", "--full");
        Assert.True(good.ExitCode == 0, good.All);
        Assert.StartsWith(":white_check_mark: *resolved*", slack.To(SlackPath).Last().Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Empty(OpenIncidents);
    }

    [Fact]
    public async Task With_no_channel_configured_a_failure_is_kept_open_in_the_store_and_resolved_there()
    {
        var failed = await FloyoDr.RunAsync(Settings(BadCredentials, null, null), "backup", "--full");
        Assert.NotEqual(0, failed.ExitCode);
        var open = Assert.Single(OpenIncidents);
        Assert.Equal($"backup:{_db.Name}", System.Text.Json.JsonDocument.Parse(File.ReadAllText(open)).RootElement.GetProperty("key").GetString());

        var good = await FloyoDr.RunAsync(Settings(_db.Url, null, null), "backup", "--full");
        Assert.True(good.ExitCode == 0, good.All);
        Assert.Empty(OpenIncidents);
        Assert.Contains(Directory.GetFiles(Path.Combine(_dir.Path, "backups", "notifications")), f => f.EndsWith("-resolved.json", StringComparison.Ordinal));
        Assert.Equal(IncidentAlerts.OpenPrefix, "notifications/open/");
    }
}
