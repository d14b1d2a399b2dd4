using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Notifications;

/// <summary>
/// Routes by severity (<see cref="SeverityRouting"/>, from NOTIFY_ROUTE_*): by default critical to the pager
/// (PagerDuty Events API v2), the chat channel (Slack incoming webhook) and email (<see cref="EmailSender"/>),
/// warning and information to the chat channel. Every notification is also written
/// to the log at its severity and recorded as <c>notifications/&lt;id&gt;.json</c> with what each channel
/// answered, so an unconfigured or failing channel never loses one. Webhook URLs and the routing key are
/// credentials: no message, log line or record ever contains them.
/// </summary>
public sealed partial class WebhookNotifier(
    HttpClient http,
    IBackupStore store,
    IOptions<NotificationOptions> options,
    SeverityRouting routing,
    EmailSender email,
    ILogger<WebhookNotifier> logger) : INotifier
{
    public const string Prefix = "notifications/";

    public const string PagerChannel = "pagerduty";

    public const string ChatChannel = "slack";

    /// <summary>A critical notification (logged as ALERT, Critical): a failure in the workbook's eyes.</summary>
    public const int AlertEventId = 6300;

    /// <summary>A channel that did not take a notification (Error).</summary>
    public const int ChannelFailedEventId = 6303;

    private static readonly JsonSerializerOptions Wire = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string RecordName(string id) => $"{Prefix}{id}.json";

    public async Task<NotificationReceipt> NotifyAsync(Notification notification, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var name = ObjectName.Check(RecordName(notification.Id));
        if (await TryReadAsync(name, ct) is { } earlier)
        {
            return earlier with { AlreadySent = true };
        }
        Log(notification);

        var settings = options.Value;
        var deliveries = new List<ChannelDelivery>();
        foreach (var channel in routing.ChannelsFor(notification))
        {
            var delivery = channel switch
            {
                PagerChannel when settings.PagerDuty is { } pager => await PostAsync(PagerChannel, pager, PagerDutyEvent(notification, settings.PagerDutyRoutingKey), ct),
                ChatChannel when settings.Slack is { } chat => await PostAsync(ChatChannel, chat, new { text = ChatText(notification) }, ct),
                EmailSender.Channel => await email.SendAsync(notification, ct),
                _ => null,
            };
            if (delivery is not null)
            {
                deliveries.Add(delivery);
            }
        }
        foreach (var failed in deliveries.Where(d => !d.Delivered))
        {
            LogChannelFailed(logger, notification.Id, failed.Channel, failed.Error ?? "");
        }

        var receipt = new NotificationReceipt(notification.Id, notification.Severity, name, deliveries);
        try
        {
            var record = new { notification, deliveries, channelsConfigured = deliveries.Count > 0 };
            await store.WriteAllAsync(name, JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);
        }
        catch (Exception e) when (e is RecoveryException or IOException or UnauthorizedAccessException)
        {
            // The log line above already holds the whole notification.
            LogNotRecorded(logger, notification.Id, e.Message);
            receipt = receipt with { Record = null };
        }
        return receipt;
    }

    /// <summary>Posts JSON, once more after a network error or a 5xx/429 answer; the answer is described without the URL.</summary>
    private async Task<ChannelDelivery> PostAsync(string channel, Uri url, object body, CancellationToken ct)
    {
        string? error = null;
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
            try
            {
                using var response = await http.PostAsJsonAsync(url, body, Wire, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    return new ChannelDelivery(channel, true);
                }
                error = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                if ((int)response.StatusCode < 500 && (int)response.StatusCode != 429)
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                error = $"no answer within {options.Value.TimeoutSeconds:F0} s";
            }
            catch (HttpRequestException e)
            {
                error = Scrub(e.InnerException?.Message ?? e.Message, url);
            }
        }
        return new ChannelDelivery(channel, false, error);
    }

    private static object PagerDutyEvent(Notification n, string? routingKey) => n.Resolves
        ? (object)new
        {
            // A resolve needs only the key of the incident it closes.
            routing_key = string.IsNullOrWhiteSpace(routingKey) ? null : routingKey.Trim(),
            event_action = "resolve",
            dedup_key = n.DedupKey ?? n.Id,
        }
        : new
    {
        routing_key = string.IsNullOrWhiteSpace(routingKey) ? null : routingKey.Trim(),
        event_action = "trigger",
        dedup_key = n.DedupKey ?? n.Id,
        payload = new
        {
            summary = Clip($"{n.Title}: {n.Text}", 1024),
            source = "floyo-dr",
            severity = n.Severity switch { NotificationSeverity.Critical => "critical", NotificationSeverity.Warning => "warning", _ => "info" },
            timestamp = n.At,
            custom_details = new { id = n.Id, text = n.Text },
        },
    };

    private static string ChatText(Notification n) => n.Resolves
        ? $":white_check_mark: *resolved* {n.Title}\n{n.Text}"
        : $"{n.Severity switch { NotificationSeverity.Critical => ":rotating_light: *CRITICAL*", NotificationSeverity.Warning => ":warning: *warning*", _ => "*info*" }} {n.Title}\n{n.Text}";

    private async Task<NotificationReceipt?> TryReadAsync(string name, CancellationToken ct)
    {
        try
        {
            if (await store.GetAsync(name, ct) is null)
            {
                return null;
            }
        }
        catch (Exception e) when (IncidentAlerts.StoreRefused(e))
        {
            // A store that refuses cannot tell whether this was sent; sending is what matters (IncidentAlerts keeps repeats out).
            LogRecordUnreadable(logger, name, e.Message);
            return null;
        }
        await using var stream = await store.OpenReadAsync(name, ct);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        var root = document.RootElement;
        var severity = root.GetProperty("notification").GetProperty("severity").Deserialize<NotificationSeverity>(Json.Options);
        var deliveries = root.GetProperty("deliveries").Deserialize<List<ChannelDelivery>>(Json.Options) ?? [];
        return new NotificationReceipt(root.GetProperty("notification").GetProperty("id").GetString()!, severity, name, deliveries);
    }

    private void Log(Notification n)
    {
        // A resolve is good news, whatever the incident's severity was.
        switch (n.Resolves ? NotificationSeverity.Info : n.Severity)
        {
            case NotificationSeverity.Critical:
                LogCritical(logger, n.Id, n.Title, n.Text);
                break;
            case NotificationSeverity.Warning:
                LogWarning(logger, n.Id, n.Title, n.Text);
                break;
            default:
                LogInfo(logger, n.Id, n.Title, n.Text);
                break;
        }
    }

    private static string Scrub(string message, Uri url) =>
        message.Replace(url.ToString(), url.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
            .Replace(url.PathAndQuery, "/…", StringComparison.Ordinal);

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    [LoggerMessage(EventId = AlertEventId, Level = LogLevel.Critical, Message = "ALERT {Id}: {Title}: {Text}")]
    private static partial void LogCritical(ILogger logger, string id, string title, string text);

    [LoggerMessage(EventId = 6301, Level = LogLevel.Warning, Message = "Notice {Id}: {Title}: {Text}")]
    private static partial void LogWarning(ILogger logger, string id, string title, string text);

    [LoggerMessage(EventId = 6302, Level = LogLevel.Information, Message = "Notice {Id}: {Title}: {Text}")]
    private static partial void LogInfo(ILogger logger, string id, string title, string text);

    [LoggerMessage(EventId = ChannelFailedEventId, Level = LogLevel.Error, Message = "Notification {Id} did not reach {Channel}: {Error}")]
    private static partial void LogChannelFailed(ILogger logger, string id, string channel, string error);

    [LoggerMessage(EventId = 6304, Level = LogLevel.Error, Message = "Notification {Id} could not be recorded in the store (it is in this log): {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string id, string error);

    [LoggerMessage(EventId = 9602, Level = LogLevel.Warning, Message = "Notification record {Name} could not be read from the store ({Error}); sending it")]
    private static partial void LogRecordUnreadable(ILogger logger, string name, string error);
}
