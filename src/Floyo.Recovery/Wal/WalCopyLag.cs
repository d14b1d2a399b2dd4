using System.Globalization;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>
/// How far one further copy's WAL archive trails the primary's. <see cref="State"/>: <c>not configured</c>,
/// <c>current</c> (it holds the primary's newest segment), <c>behind</c> (within WAL_COPY_MAX_LAG_MINUTES),
/// <c>lagging</c> (past it: <see cref="Finding"/>) or <c>unreachable</c> (also a finding).
/// <see cref="BehindSeconds"/> is how long the primary has held WAL the copy still lacks.
/// </summary>
public sealed record WalCopyState(BackupSource Copy, string State, string? Store, string? NewestSegment, DateTimeOffset? NewestArchivedAt, double? BehindSeconds, string? Finding);

/// <summary>
/// The further copies' WAL lag, where the recovery point is reported (list, /api/health, drills): the copies are
/// filled by <see cref="WalCopier"/> after each base backup and every 6 hours, so a copy lacking WAL the primary
/// has held for longer than WAL_COPY_MAX_LAG_MINUTES (default 7 h: one 6-hourly run plus a margin) has stopped
/// being fed, and a data-centre outage would lose more than the plan allows.
/// </summary>
public sealed class WalCopyLagProbe(BackupStores stores, IOptions<WalOptions> wal, TimeProvider clock)
{
    public async Task<IReadOnlyList<WalCopyState>> StatesAsync(CancellationToken ct)
    {
        var states = new List<WalCopyState>();
        IReadOnlyList<string>? primary = null;
        foreach (var copy in BackupStores.Copies)
        {
            if (!stores.Has(copy))
            {
                states.Add(new WalCopyState(copy, "not configured", null, null, null, null, null));
                continue;
            }
            primary ??= await SegmentsAsync(stores.Primary, ct);
            var store = stores.For(copy);
            try
            {
                var theirs = await SegmentsAsync(store, ct);
                var newest = theirs.Count == 0 ? null : theirs[^1];
                var newestAt = newest is null ? null : await ArchivedAtAsync(store, newest, ct);
                var missing = FirstMissing(primary, theirs);
                var missingAt = missing is null ? null : await ArchivedAtAsync(stores.Primary, missing, ct);
                states.Add(Judge(copy, store.Location, newest, newestAt, missing, missingAt, clock.GetUtcNow(), wal.Value.CopyMaxLagMinutes));
            }
            catch (RecoveryException e)
            {
                states.Add(new WalCopyState(copy, "unreachable", store.Location, null, null, null,
                    $"the {BackupStores.Ordinal(copy)} copy's WAL archive ({store.Location}) cannot be read: {e.Message}"));
            }
        }
        return states;
    }

    /// <summary>The oldest segment the primary holds past the copy's newest that the copy lacks; null when it lacks none.</summary>
    public static string? FirstMissing(IReadOnlyList<string> primarySegments, IReadOnlyList<string> copySegments)
    {
        // Older segments the copy lacks are not lag: its own retention may have expired them, by its own base backups.
        var newest = copySegments.Count == 0 ? null : copySegments[^1];
        var held = copySegments.ToHashSet(StringComparer.Ordinal);
        return primarySegments.FirstOrDefault(s => (newest is null || string.CompareOrdinal(s, newest) > 0) && !held.Contains(s));
    }

    public static WalCopyState Judge(BackupSource copy, string store, string? newest, DateTimeOffset? newestAt, string? firstMissing, DateTimeOffset? firstMissingAt,
        DateTimeOffset now, int maxLagMinutes)
    {
        if (firstMissing is null)
        {
            return new WalCopyState(copy, "current", store, newest, newestAt, 0, null);
        }
        var behind = firstMissingAt is { } at ? now - at : TimeSpan.Zero;
        if (behind <= TimeSpan.FromMinutes(maxLagMinutes))
        {
            return new WalCopyState(copy, "behind", store, newest, newestAt, Math.Round(behind.TotalSeconds), null);
        }
        var finding = string.Create(CultureInfo.InvariantCulture,
            $"the {BackupStores.Ordinal(copy)} copy's WAL archive ({store}) is {Hours(behind)} behind the primary: its newest segment is {newest ?? "none"}, while the primary has held {firstMissing} since {PitrPlanner.Show(firstMissingAt!.Value)}, over WAL_COPY_MAX_LAG_MINUTES ({maxLagMinutes}); run 'floyo-dr wal copy' and check the incremental backups");
        return new WalCopyState(copy, "lagging", store, newest, newestAt, Math.Round(behind.TotalSeconds), finding);
    }

    private static string Hours(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:D2}m")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m");

    /// <summary>Complete segments (data and record) in the store, oldest first.</summary>
    private static async Task<IReadOnlyList<string>> SegmentsAsync(IBackupStore store, CancellationToken ct)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(WalArchiveRecord.Folder, ct))
        {
            names.Add(item.Name);
        }
        return [.. names.Select(WalArchiveRecord.WalFileOf).OfType<string>()
            .Where(w => names.Contains(WalArchiveRecord.DataName(w)) && WalFileName.TryParse(w, WalFileName.DefaultSegmentSize, out var f) && f!.Kind == WalFileKind.Segment)
            .Order(StringComparer.Ordinal)];
    }

    private static async Task<DateTimeOffset?> ArchivedAtAsync(IBackupStore store, string walFile, CancellationToken ct) =>
        (await StoredJson.ReadAsync<WalArchiveRecord>(store, WalArchiveRecord.RecordName(walFile), ct)).Value?.ArchivedAt;
}
