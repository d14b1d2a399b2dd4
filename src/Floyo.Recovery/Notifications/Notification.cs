using System.Text.Json.Serialization;

namespace Floyo.Recovery.Notifications;

[JsonConverter(typeof(JsonStringEnumConverter<NotificationSeverity>))]
public enum NotificationSeverity
{
    Info,
    Warning,

    /// <summary>Someone must act now: pages the on-call engineer.</summary>
    Critical,
}

/// <summary>Who a notification is for: the email channel picks its recipient list by it (the other channels are the team's).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NotificationAudience>))]
public enum NotificationAudience
{
    Team,
    Stakeholders,
    Customers,
}

/// <summary>
/// One alert. <paramref name="Id"/> makes sending idempotent (a retried activity finds its earlier record
/// and sends nothing twice); <paramref name="DedupKey"/> groups alerts of one incident in the pager.
/// <paramref name="Resolves"/> closes the incident of that dedup key instead of opening one (PagerDuty
/// <c>resolve</c>, a "resolved" follow-up in Slack). <paramref name="Audience"/> beyond the team also sends it by
/// email to that audience's list, whatever the severity's route. Text names objects, roles and times only, never a credential.
/// </summary>
public sealed record Notification(
    string Id,
    NotificationSeverity Severity,
    string Title,
    string Text,
    DateTimeOffset At,
    string? DedupKey = null,
    bool Resolves = false,
    NotificationAudience Audience = NotificationAudience.Team);

/// <summary>How one channel took a notification.</summary>
public sealed record ChannelDelivery(string Channel, bool Delivered, string? Error = null);

/// <summary>What became of a notification: where it went and where it is recorded.</summary>
public sealed record NotificationReceipt(string Id, NotificationSeverity Severity, string? Record, IReadOnlyList<ChannelDelivery> Deliveries, bool AlreadySent = false)
{
    /// <summary>At least one channel beyond the log and the store took it.</summary>
    public bool Delivered => Deliveries.Any(d => d.Delivered);
}

/// <summary>Sends alerts by severity. Never throws for a channel that is down: the receipt says what happened.</summary>
public interface INotifier
{
    Task<NotificationReceipt> NotifyAsync(Notification notification, CancellationToken ct);
}
