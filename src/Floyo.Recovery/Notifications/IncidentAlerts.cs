using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
/// The open incidents live in the backup store; when the store itself refuses (bad key, unreachable, disk
/// read-only: the failure being alerted on may be exactly that) they are kept in the work folder
/// (FLOYO_WORK_DIR/alerts) instead, so the alert still goes out once and the next good run still resolves it.
/// </summary>
public sealed partial class IncidentAlerts(INotifier notifier, IBackupStore store, IOptions<DatabaseOptions> database, TimeProvider clock, ILogger<IncidentAlerts> logger)
{
    private readonly Lazy<FilesystemStore> _local = new(() => new FilesystemStore(Path.Combine(WorkDirectory.Create(database.Value), "alerts", StoreTag(store))));

    public const string OpenPrefix = WebhookNotifier.Prefix + "open/";

    public const string Opened = "opened";
    public const string StillOpen = "still-open";
    public const string Resolved = "resolved";
    public const string NothingOpen = "none";

    /// <summary>The events the workbook's open-incidents view reads (infra/bicep/modules/workbook.bicep).</summary>
    public const int OpenedEventId = 8800;

    public const int ResolvedEventId = 8802;

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
        await using var held = await LockAsync(name, ct);
        var (open, where) = await FindAsync(name, ct);
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
        if (where is not null)
        {
            await where.DeleteAsync(name, ct);
        }
        await SaveAsync(name, incident, ct);
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
        await using var held = await LockAsync(name, ct);
        if (await FindAsync(name, ct) is not ({ } open, { } where))
        {
            return new AlertResult(key, NothingOpen);
        }
        var receipt = await notifier.NotifyAsync(
            new Notification($"{open.NotificationId}-resolved", open.Severity, open.Title, text, clock.GetUtcNow(), key, Resolves: true), ct);
        await where.DeleteAsync(name, ct);
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

    /// <summary>The open incidents of the store, and those kept in the work folder while the store refused (a store that cannot be read is reported, not thrown).</summary>
    public async Task<IReadOnlyList<OpenIncident>> ListOpenAsync(CancellationToken ct)
    {
        var open = new List<OpenIncident>();
        try
        {
            open.AddRange(await ListInAsync(store, ct));
        }
        catch (Exception e) when (StoreRefused(e))
        {
            LogStoreRefused(logger, store.Location, e.Message);
        }
        if (LocalExists)
        {
            open.AddRange((await ListInAsync(_local.Value, ct)).Where(l => !open.Any(o => o.Key == l.Key)));
        }
        return open;
    }

    private static async Task<List<OpenIncident>> ListInAsync(IBackupStore where, CancellationToken ct)
    {
        var open = new List<OpenIncident>();
        await foreach (var stored in where.ListAsync(OpenPrefix, ct))
        {
            if (await ReadAsync(where, stored.Name, ct) is { } incident)
            {
                open.Add(incident);
            }
        }
        return open;
    }

    // Looked at without creating the work folder: a healthy store never needs it.
    private bool LocalExists => _local.IsValueCreated || Directory.Exists(Path.Combine(
        Path.GetFullPath(database.Value.WorkDir is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "floyo-dr")), "alerts", StoreTag(store), OpenPrefix));

    // One folder per store: a work folder shared by runs against other stores must not show or resolve their incidents.
    private static string StoreTag(IBackupStore store) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store.Location)))[..16];

    private async Task<IAsyncDisposable> LockAsync(string name, CancellationToken ct)
    {
        var lockKey = $"alert-{Path.GetFileNameWithoutExtension(name)}";
        try
        {
            return await store.LockAsync(lockKey, TimeSpan.FromSeconds(30), ct);
        }
        catch (Exception e) when (StoreRefused(e) && !HeldByAnotherRun(e))
        {
            LogStoreRefused(logger, store.Location, e.Message);
            return await _local.Value.LockAsync(lockKey, TimeSpan.FromSeconds(30), ct);
        }
    }

    /// <summary>The open incident of a record name and where it is kept: the store first, then the work folder.</summary>
    private async Task<(OpenIncident? Incident, IBackupStore? Where)> FindAsync(string name, CancellationToken ct)
    {
        try
        {
            if (await ReadAsync(store, name, ct) is { } incident)
            {
                return (incident, store);
            }
        }
        catch (Exception e) when (StoreRefused(e))
        {
            LogStoreRefused(logger, store.Location, e.Message);
        }
        if (LocalExists && await ReadAsync(_local.Value, name, ct) is { } kept)
        {
            return (kept, _local.Value);
        }
        return (null, null);
    }

    private async Task SaveAsync(string name, OpenIncident incident, CancellationToken ct)
    {
        var content = JsonSerializer.SerializeToUtf8Bytes(incident, Json.Options);
        try
        {
            await store.WriteAllAsync(name, content, ObjectRetention.None, ct);
        }
        catch (Exception e) when (StoreRefused(e))
        {
            await _local.Value.WriteAllAsync(name, content, ObjectRetention.None, ct);
            LogKeptLocally(logger, incident.Key, _local.Value.Root, e.Message);
        }
    }

    private static async Task<OpenIncident?> ReadAsync(IBackupStore where, string name, CancellationToken ct)
    {
        if (await where.GetAsync(name, ct) is null)
        {
            return null;
        }
        await using var stream = await where.OpenReadAsync(name, ct);
        return await JsonSerializer.DeserializeAsync<OpenIncident>(stream, Json.Options, ct);
    }

    /// <summary>The store could not be used at all (refused, unreachable, not writable), as opposed to a bug or a cancellation.</summary>
    internal static bool StoreRefused(Exception e) =>
        e is RecoveryException or IOException or UnauthorizedAccessException or Azure.RequestFailedException;

    // Another run raising the same key right now is not a refusing store: waiting it out is right, writing beside it is not.
    private static bool HeldByAnotherRun(Exception e) =>
        e is UnavailableException && e.Message.StartsWith("another floyo-dr run holds the lock", StringComparison.Ordinal);

    /// <summary>The text of the "opened" event (8800), as the log writes it: the dashboard rebuilds it from the notification ledger.</summary>
    public static string OpenedMessage(string key, NotificationSeverity severity, string title, IReadOnlyList<ChannelDelivery> deliveries) =>
        $"Incident {key} opened ({severity}): {title}; sent to {Describe(deliveries)}";

    private static string Describe(IReadOnlyList<ChannelDelivery> deliveries) =>
        deliveries.Count == 0 ? "no channel configured (log and store only)" : string.Join(", ", deliveries.Select(d => d.Delivered ? d.Channel : $"{d.Channel} FAILED"));

    [LoggerMessage(EventId = OpenedEventId, Level = LogLevel.Information, Message = "Incident {Key} opened ({Severity}): {Title}; sent to {Channels}")]
    private static partial void LogOpened(ILogger logger, string key, string severity, string title, string channels);

    [LoggerMessage(EventId = 8801, Level = LogLevel.Information, Message = "Incident {Key} still open since {OpenedAt:O}, not sent again: {Title}")]
    private static partial void LogStillOpen(ILogger logger, string key, DateTimeOffset openedAt, string title);

    [LoggerMessage(EventId = ResolvedEventId, Level = LogLevel.Information, Message = "Incident {Key} (open since {OpenedAt:O}) resolved: {Text}")]
    private static partial void LogResolved(ILogger logger, string key, DateTimeOffset openedAt, string text);

    [LoggerMessage(EventId = 9600, Level = LogLevel.Warning, Message = "The backup store {Location} refused the alert records ({Error}); using the work folder's")]
    private static partial void LogStoreRefused(ILogger logger, string location, string error);

    [LoggerMessage(EventId = 9601, Level = LogLevel.Warning, Message = "Incident {Key} is kept open in {Folder}: the backup store refused it ({Error})")]
    private static partial void LogKeptLocally(ILogger logger, string key, string folder, string error);
}
