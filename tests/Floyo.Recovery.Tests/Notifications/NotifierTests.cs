using System.Net;
using System.Text.Json;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Tests.Notifications;

/// <summary>The notifier's real HttpClient against a real loopback HTTP server standing in for PagerDuty and Slack.</summary>
[Trait("Tier", "Fast")]
public sealed class NotifierTests
{
    private const string SlackPath = "services/T0001/B0002/slack-webhook-token-0123456789";
    private const string PagerPath = "v2/enqueue";
    private const string RoutingKey = "pd-routing-key-0123456789abcdef";

    private static ServiceProvider Engine(TempDirectory dir, CapturedLogs logs, params (string Key, string? Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path, ["NOTIFY_TIMEOUT_SECONDS"] = "2" };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddFloyoRecovery();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private static Notification Alert(string id, NotificationSeverity severity) =>
        new(id, severity, $"title of {id}", $"text of {id}", DateTimeOffset.UtcNow, "incident-1");

    private static JsonElement Record(TempDirectory dir, string id) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, WebhookNotifier.RecordName(id)))).RootElement.Clone();

    [Fact]
    public async Task Critical_pages_and_posts_to_chat_warnings_only_post_and_every_one_is_recorded_once()
    {
        await using var hooks = new WebhookRecorder();
        using var dir = new TempDirectory();
        var logs = new CapturedLogs();
        await using var engine = Engine(dir, logs, ("NOTIFY_PAGERDUTY_URL", hooks.Url(PagerPath)), ("NOTIFY_PAGERDUTY_ROUTING_KEY", RoutingKey), ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath)));
        var notifier = engine.GetRequiredService<INotifier>();

        var critical = await notifier.NotifyAsync(Alert("n-critical", NotificationSeverity.Critical), default);
        var warning = await notifier.NotifyAsync(Alert("n-warning", NotificationSeverity.Warning), default);
        var info = await notifier.NotifyAsync(Alert("n-info", NotificationSeverity.Info), default);

        Assert.Equal([WebhookNotifier.PagerChannel, WebhookNotifier.ChatChannel], critical.Deliveries.Select(d => d.Channel));
        Assert.All(critical.Deliveries, d => Assert.True(d.Delivered, d.Error));
        Assert.Equal([WebhookNotifier.ChatChannel], warning.Deliveries.Select(d => d.Channel));
        Assert.Equal([WebhookNotifier.ChatChannel], info.Deliveries.Select(d => d.Channel));

        var page = Assert.Single(hooks.To(PagerPath)).Json;
        Assert.Equal(RoutingKey, page.GetProperty("routing_key").GetString());
        Assert.Equal("trigger", page.GetProperty("event_action").GetString());
        Assert.Equal("incident-1", page.GetProperty("dedup_key").GetString());
        Assert.Equal("critical", page.GetProperty("payload").GetProperty("severity").GetString());
        Assert.Equal("title of n-critical: text of n-critical", page.GetProperty("payload").GetProperty("summary").GetString());
        var chat = hooks.To(SlackPath).Select(p => p.Json.GetProperty("text").GetString()!).ToList();
        Assert.Equal(3, chat.Count);
        Assert.Contains(chat, t => t.Contains("*CRITICAL* title of n-critical", StringComparison.Ordinal));
        Assert.All(hooks.Posts, p => Assert.StartsWith("application/json", p.ContentType, StringComparison.Ordinal));

        // Recorded in the store with what each channel answered; a second send of the same id sends nothing.
        Assert.True(Record(dir, "n-critical").GetProperty("deliveries")[0].GetProperty("delivered").GetBoolean());
        var again = await notifier.NotifyAsync(Alert("n-critical", NotificationSeverity.Critical), default);
        Assert.True(again.AlreadySent);
        Assert.Single(hooks.To(PagerPath));
        Assert.Equal(3, hooks.To(SlackPath).Count);

        // Logged at its severity; the webhook path and routing key appear in no log line and no record.
        Assert.Contains(logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains("title of n-critical", StringComparison.Ordinal));
        var stored = string.Concat(Directory.EnumerateFiles(Path.Combine(dir.Path, "notifications")).Select(File.ReadAllText));
        foreach (var secret in new[] { SlackPath, RoutingKey })
        {
            Assert.DoesNotContain(secret, logs.All, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task With_no_channel_configured_a_notification_goes_to_the_log_and_the_store()
    {
        using var dir = new TempDirectory();
        var logs = new CapturedLogs();
        await using var engine = Engine(dir, logs);

        var receipt = await engine.GetRequiredService<INotifier>().NotifyAsync(Alert("n-nowhere", NotificationSeverity.Critical), default);

        Assert.Empty(receipt.Deliveries);
        Assert.False(receipt.Delivered);
        Assert.Equal(WebhookNotifier.RecordName("n-nowhere"), receipt.Record);
        var record = Record(dir, "n-nowhere");
        Assert.Equal("critical", record.GetProperty("notification").GetProperty("severity").GetString());
        Assert.Equal("text of n-nowhere", record.GetProperty("notification").GetProperty("text").GetString());
        Assert.False(record.GetProperty("channelsConfigured").GetBoolean());
        Assert.Contains(logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains("[6300]", StringComparison.Ordinal) && l.Contains("text of n-nowhere", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_or_unreachable_channel_is_reported_and_the_notification_is_still_recorded()
    {
        await using var hooks = new WebhookRecorder { Answer = HttpStatusCode.InternalServerError };
        using var dir = new TempDirectory();
        var logs = new CapturedLogs();
        // The pager points at a port nobody listens on.
        await using var engine = Engine(dir, logs, ("NOTIFY_PAGERDUTY_URL", $"http://127.0.0.1:{FreePort()}/{PagerPath}"), ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath)));

        var receipt = await engine.GetRequiredService<INotifier>().NotifyAsync(Alert("n-down", NotificationSeverity.Critical), default);

        Assert.False(receipt.Delivered);
        var pager = receipt.Deliveries.Single(d => d.Channel == WebhookNotifier.PagerChannel);
        var chat = receipt.Deliveries.Single(d => d.Channel == WebhookNotifier.ChatChannel);
        Assert.False(pager.Delivered);
        Assert.Equal("HTTP 500 Internal Server Error", chat.Error);
        Assert.Equal(2, hooks.To(SlackPath).Count); // one retry after a 5xx
        Assert.True(File.Exists(Path.Combine(dir.Path, WebhookNotifier.RecordName("n-down"))));
        Assert.Contains(logs.Lines, l => l.Contains("[6303]", StringComparison.Ordinal) && l.Contains("did not reach slack: HTTP 500", StringComparison.Ordinal));
        Assert.DoesNotContain(SlackPath, logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(PagerPath, string.Join("", receipt.Deliveries.Select(d => d.Error)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_webhook_setting_fails_at_start_without_echoing_it()
    {
        using var dir = new TempDirectory();
        await using var engine = Engine(dir, new CapturedLogs(), ("NOTIFY_SLACK_WEBHOOK_URL", "hooks.slack.com/services/T/B/secret-part"));
        var failure = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => engine.GetRequiredService<Microsoft.Extensions.Options.IOptions<Configuration.NotificationOptions>>().Value);
        Assert.Equal("NOTIFY_SLACK_WEBHOOK_URL must be an absolute http(s) URL", Assert.Single(failure.Failures));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
