using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>What retention does to base backups, the WAL archive and incremental records.</summary>
public sealed record WalRetentionPlan(
    IReadOnlyList<string> KeptBases,
    IReadOnlyList<string> DeletedBases,
    IReadOnlyList<string> DeletedWal,
    IReadOnlyList<string> DeletedIncrementals,
    string? OldestNeededSegment)
{
    public int Deletions => DeletedBases.Count + DeletedWal.Count + DeletedIncrementals.Count;
}

/// <summary>What retention did in one copy of the store.</summary>
public sealed record WalRetentionResult(BackupSource Source, string Store, WalRetentionPlan Plan, IReadOnlyList<string> Failures);

/// <summary>
/// Retention of point-in-time recovery: every base backup within BACKUP_RETENTION_DAYS is kept, and the newest
/// one always; every WAL file from the oldest kept base backup's start segment on is kept (it needs them all, on
/// any timeline), as are all timeline histories. Older base backups and WAL go, and incremental records past
/// BACKUP_INCREMENTAL_RETENTION_DAYS or of a deleted base backup. With no base backup nothing in the archive is deleted.
/// </summary>
public sealed class WalRetention(IOptions<BackupOptions> options, TimeProvider clock)
{
    public static WalRetentionPlan Decide(IReadOnlyList<BaseBackupMetadata> bases, IEnumerable<string> walFiles, IReadOnlyList<IncrementalBackupRecord> incrementals,
        BackupOptions settings, DateTimeOffset now)
    {
        var newestFirst = bases.OrderByDescending(b => b.StopTime).ToList();
        var cutoff = now.AddDays(-settings.RetentionDays);
        var kept = newestFirst.Where((b, i) => i == 0 || b.StopTime >= cutoff).ToList();
        var deleted = newestFirst.Except(kept).ToList();
        var keptNames = kept.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        var incrementalCutoff = now.AddDays(-settings.IncrementalRetentionDays);
        var expiredIncrementals = incrementals.Where(r => r.StopTime < incrementalCutoff || (bases.Count > 0 && !keptNames.Contains(r.BaseBackup)))
            .Select(r => r.Name).Order(StringComparer.Ordinal).ToList();
        if (kept.Count == 0)
        {
            return new([], [], [], expiredIncrementals, null);
        }

        var oldest = kept.MinBy(b => WalFileName.ParseLsn(b.StartLsn))!;
        var size = oldest.WalSegmentSize > 0 ? oldest.WalSegmentSize : WalFileName.DefaultSegmentSize;
        var firstNeeded = WalFileName.SegmentOf(oldest.StartLsn, size);
        var deletedWal = walFiles
            .Select(n => WalFileName.TryParse(n, size, out var f) ? f : null)
            .OfType<WalFileName>()
            .Where(f => f.Kind != WalFileKind.History && f.SegmentNumber < firstNeeded)
            .Select(f => f.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        return new([.. kept.Select(b => b.Name)], [.. deleted.Select(b => b.Name)], deletedWal, expiredIncrementals,
            WalFileName.SegmentName(oldest.Timeline, firstNeeded, size));
    }

    public async Task<WalRetentionPlan> PlanAsync(IBackupStore store, CancellationToken ct)
    {
        var bases = await new BaseBackupCatalog(store).ListAsync(ct);
        var walFiles = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(WalArchiveRecord.Folder, ct))
        {
            // Data and record alike, so a file whose record was lost is still expired.
            var name = item.Name[WalArchiveRecord.Folder.Length..];
            walFiles.Add(name.EndsWith(".json", StringComparison.Ordinal) ? name[..^".json".Length] : name.EndsWith(".zst", StringComparison.Ordinal) ? name[..^".zst".Length] : name);
        }
        var incrementals = await IncrementalBackupRecord.ListAsync(store, ct);
        return Decide([.. bases.Select(b => b.Metadata)], walFiles, incrementals, options.Value, clock.GetUtcNow());
    }

    /// <summary>
    /// Plans and applies retention on the primary store and on every further copy configured (BACKUP_SECONDARY_STORE, BACKUP_TERTIARY_STORE),
    /// each by the base backups it holds itself (a copy may lag or lead the primary). A failure on one copy does not
    /// stop the other; each is reported with the store it happened in.
    /// </summary>
    public async Task<IReadOnlyList<WalRetentionResult>> ApplyToEveryCopyAsync(BackupStores stores, CancellationToken ct)
    {
        var results = new List<WalRetentionResult>();
        // Every copy holds WAL and base backups now (WalCopier), the third too.
        foreach (var (source, store) in BackupStores.Copies.Select(c => (c, stores.CopyStore(c))).Prepend((BackupSource.Primary, stores.Primary)))
        {
            if (store is null)
            {
                continue;
            }
            var plan = await PlanAsync(store, ct);
            var failures = await ApplyAsync(store, plan, ct);
            results.Add(new WalRetentionResult(source, store.Location, plan, [.. failures.Select(f => $"{store.Location}: {f}")]));
        }
        return results;
    }

    /// <summary>Deletes what the plan says: a base backup's metadata before its tar, a WAL file's record before its data, so nothing half-deleted is ever used.</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(IBackupStore store, WalRetentionPlan plan, CancellationToken ct)
    {
        var failures = new List<string>();
        var objects = plan.DeletedBases.SelectMany(b => new[] { BaseBackupCatalog.MetadataOf(b), b })
            .Concat(plan.DeletedIncrementals)
            .Concat(plan.DeletedWal.SelectMany(w => new[] { WalArchiveRecord.RecordName(w), WalArchiveRecord.DataName(w) }));
        foreach (var name in objects)
        {
            try
            {
                if (await store.GetAsync(name, ct) is not null)
                {
                    await store.DeleteAsync(name, ct);
                }
            }
            catch (ObjectProtectedException e)
            {
                failures.Add(e.Message);
            }
        }
        return failures;
    }
}
