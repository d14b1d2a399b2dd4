using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Notifications;

/// <summary>An incident that was sent and not yet resolved: <c>notifications/open/&lt;key&gt;.json</c>.</summary>
public sealed record OpenIncident(string Key, string NotificationId, NotificationSeverity Severity, string Title, string Text, DateTimeOffset OpenedAt, IReadOnlyList<ChannelDelivery> Deliveries);

/// <summary>What one raise or resolve did: opened, still-open (nothing sent), resolved, or none (nothing was open).</summary>
public sealed record AlertResult(string Key, string Action, NotificationReceipt? Receipt = null);

/// <summary>
/// One incident per cause. A failure raises the cause's key (e.g. <c>backup:floyo</c>): the first raise sends
/// a trigger (PagerDuty dedup_key = the key) and records the incident as open; later raises of an open key send
/// nothing, so a failure that repeats every run pages once. The cause's next success resolves it (PagerDuty
/// <c>resolve</c>, a "resolved" follow-up in Slack), and only a key that was opened is ever resolved. A channel
/// that failed is reported through the ones that took the alert, under the same key.
/// </summary>
public sealed partial class IncidentAlerts(INotifier notifier, IBackupStore store, TimeProvider clock, ILogger<IncidentAlerts> logger)
{
    public const string OpenPrefix = WebhookNotifier.Prefix + "open/";

    public const string Opened = "opened";
    public const string StillOpen = "still-open";
    public const string Resolved = "resolved";
    public const string NothingOpen = "none";

    /// <summary>Where the open incident of <paramref name="key"/> is kept: readable, and unique by a hash of the exact key.</summary>
    public static string RecordName(string key)
    {
        var readable = new StringBuilder(Math.Min(key.Length, 80));
        foreach (var c in key.Take(80))
        {
            readable.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..10];
        return $"{OpenPrefix}{readable}-{hash}.json";
    }

    public async Task<AlertResult> RaiseAsync(string key, NotificationSeverity severity, string title, string text, CancellationToken ct)
    {
        var name = ObjectName.Check(RecordName(key));
        await using var held = await store.LockAsync($"alert-{Path.GetFileNameWithoutExtension(name)}", TimeSpan.FromSeconds(30), ct);
        var open = await ReadAsync(name, ct);
        if (open is not null && (open.Deliveries.Count == 0 || open.Deliveries.Any(d => d.Delivered)))
        {
            // Already sent (or there is nowhere to send it): a repeat neither pages nor posts again.
            LogStillOpen(logger, key, open.OpenedAt, title);
            return new AlertResult(key, StillOpen);
        }

        // New, or opened while every channel was down: (re)send under a fresh id, the same dedup key.
        var at = clock.GetUtcNow();
        var id = $"alert-{Path.GetFileNameWithoutExtension(name)}-{at:yyyyMMdd'T'HHmmssfff}";
        var receipt = await notifier.NotifyAsync(new Notification(id, severity, title, text, at, key), ct);
        var incident = new OpenIncident(key, id, severity, title, text, open?.OpenedAt ?? at, receipt.Deliveries);
        if (open is not null)
        {
            await store.DeleteAsync(name, ct);
        }
        await store.WriteAllAsync(name, JsonSerializer.SerializeToUtf8Bytes(incident, Json.Options), ObjectRetention.None, ct);
        LogOpened(logger, key, severity.ToString(), title, Describe(receipt.Deliveries));

        var failed = receipt.Deliveries.Where(d => !d.Delivered).ToList();
        if (failed.Count > 0 && receipt.Delivered)
        {
            // A dead channel is itself news, told through the channels that work (same key: no second page).
            // A dead pager is told to chat only (a warning), so it is not posted to again.
            var noticeSeverity = failed.Any(f => f.Channel == WebhookNotifier.PagerChannel) ? NotificationSeverity.Warning : severity;
            await notifier.NotifyAsync(new Notification($"{id}-channels", noticeSeverity, $"Alert channel down: {string.Join(", ", failed.Select(f => f.Channel))}",
                $"The alert \"{title}\" did not reach {string.Join("; ", failed.Select(f => $"{f.Channel} ({f.Error})"))}. Check that channel's webhook.", at, key), ct);
        }
        return new AlertResult(key, Opened, receipt);
    }

    /// <summary>Resolves the open incident of <paramref name="key"/>; nothing is sent when none is open.</summary>
    public async Task<AlertResult> ResolveAsync(string key, string text, CancellationToken ct)
    {
        var name = ObjectName.Check(RecordName(key));
        await using var held = await store.LockAsync($"alert-{Path.GetFileNameWithoutExtension(name)}", TimeSpan.FromSeconds(30), ct);
        if (await ReadAsync(name, ct) is not { } open)
        {
            return new AlertResult(key, NothingOpen);
        }
        var receipt = await notifier.NotifyAsync(
            new Notification($"{open.NotificationId}-resolved", open.Severity, open.Title, text, clock.GetUtcNow(), key, Resolves: true), ct);
        await store.DeleteAsync(name, ct);
        LogResolved(logger, key, open.OpenedAt, text);
        return new AlertResult(key, Resolved, receipt);
    }

    /// <summary>Resolves every open incident whose key starts with <paramref name="keyPrefix"/> (a sweep that found all well).</summary>
    public async Task<IReadOnlyList<AlertResult>> ResolveAllAsync(string keyPrefix, string text, CancellationToken ct)
    {
        var results = new List<AlertResult>();
        foreach (var incident in await ListOpenAsync(ct))
        {
            if (incident.Key.StartsWith(keyPrefix, StringComparison.Ordinal))
            {
                results.Add(await ResolveAsync(incident.Key, text, ct));
            }
        }
        return results;
    }

    public async Task<IReadOnlyList<OpenIncident>> ListOpenAsync(CancellationToken ct)
    {
        var open = new List<OpenIncident>();
        await foreach (var stored in store.ListAsync(OpenPrefix, ct))
        {
            if (await ReadAsync(stored.Name, ct) is { } incident)
            {
                open.Add(incident);
            }
        }
        return open;
    }

    private async Task<OpenIncident?> ReadAsync(string name, CancellationToken ct)
    {
        if (await store.GetAsync(name, ct) is null)
        {
            return null;
        }
        await using var stream = await store.OpenReadAsync(name, ct);
        return await JsonSerializer.DeserializeAsync<OpenIncident>(stream, Json.Options, ct);
    }

    private static string Describe(IReadOnlyList<ChannelDelivery> deliveries) =>
        deliveries.Count == 0 ? "no channel configured (log and store only)" : string.Join(", ", deliveries.Select(d => d.Delivered ? d.Channel : $"{d.Channel} FAILED"));

    [LoggerMessage(EventId = 8800, Level = LogLevel.Information, Message = "Incident {Key} opened ({Severity}): {Title}; sent to {Channels}")]
    private static partial void LogOpened(ILogger logger, string key, string severity, string title, string channels);

    [LoggerMessage(EventId = 8801, Level = LogLevel.Information, Message = "Incident {Key} still open since {OpenedAt:O}, not sent again: {Title}")]
    private static partial void LogStillOpen(ILogger logger, string key, DateTimeOffset openedAt, string title);

    [LoggerMessage(EventId = 8802, Level = LogLevel.Information, Message = "Incident {Key} (open since {OpenedAt:O}) resolved: {Text}")]
    private static partial void LogResolved(ILogger logger, string key, DateTimeOffset openedAt, string text);
}
