using Floyo.Recovery.Storage;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.AppData;

public sealed record AppDataCleanup(bool DryRun, IReadOnlyList<string> Deleted, IReadOnlyList<string> Failures, int Kept);

/// <summary>
/// Expires application-data backups: files snapshots older than FILES_RETENTION_DAYS (then the objects no
/// remaining snapshot references) and configuration exports older than CONFIG_RETENTION_DAYS. The newest
/// of each is always kept, protected objects are never sent a delete, and manifests go before the objects
/// they name, so no surviving manifest ever points at a deleted file.
/// </summary>
public sealed class AppDataRetention(IBackupStore store, FilesSnapshotter snapshots, IOptions<AppDataOptions> options, TimeProvider clock)
{
    /// <summary>Unreferenced objects younger than this may belong to a snapshot that is running or was interrupted.</summary>
    private static readonly TimeSpan ObjectGrace = TimeSpan.FromDays(2);

    public async Task<AppDataCleanup> CleanupFilesAsync(bool dryRun, CancellationToken ct)
    {
        await using var snapshotLock = await store.LockAsync("files-snapshot", TimeSpan.FromSeconds(30), ct);
        var now = clock.GetUtcNow();
        var limit = now - TimeSpan.FromDays(options.Value.FilesRetentionDays);
        var manifests = new List<(StoredObject Item, DateTimeOffset At)>();
        await foreach (var item in store.ListAsync(FilesManifest.ManifestPrefix, ct))
        {
            if (FilesManifest.TimestampOf(item.Name) is { } at)
            {
                manifests.Add((item, at));
            }
        }
        var newest = manifests.MaxBy(m => m.At).Item?.Name;
        var expired = manifests.Where(m => m.At < limit && m.Item.Name != newest && !m.Item.IsProtected(now)).Select(m => m.Item.Name).ToHashSet(StringComparer.Ordinal);

        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (item, _) in manifests.Where(m => !expired.Contains(m.Item.Name)))
        {
            foreach (var entry in (await snapshots.ReadAsync(item.Name, ct)).Entries)
            {
                referenced.Add(entry.Object);
            }
        }
        var orphans = new List<string>();
        var total = 0;
        await foreach (var item in store.ListAsync(FilesManifest.ObjectPrefix, ct))
        {
            total++;
            if (!referenced.Contains(item.Name) && now - item.LastModified > ObjectGrace && !item.IsProtected(now))
            {
                orphans.Add(item.Name);
            }
        }
        var deleted = new List<string>();
        var failures = new List<string>();
        foreach (var name in expired.Order(StringComparer.Ordinal).Concat(orphans))
        {
            await DeleteAsync(name, dryRun, deleted, failures, ct);
        }
        return new AppDataCleanup(dryRun, deleted, failures, manifests.Count + total - deleted.Count);
    }

    public async Task<AppDataCleanup> CleanupConfigAsync(bool dryRun, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var limit = now - TimeSpan.FromDays(options.Value.ConfigRetentionDays);
        var exports = new List<StoredObject>();
        await foreach (var item in store.ListAsync(ConfigExporter.Prefix, ct))
        {
            exports.Add(item);
        }
        var newest = exports.MaxBy(e => e.Name, StringComparer.Ordinal)?.Name;
        var deleted = new List<string>();
        var failures = new List<string>();
        foreach (var item in exports.Where(e => e.LastModified < limit && e.Name != newest && !e.IsProtected(now)))
        {
            await DeleteAsync(item.Name, dryRun, deleted, failures, ct);
        }
        return new AppDataCleanup(dryRun, deleted, failures, exports.Count - deleted.Count);
    }

    private async Task DeleteAsync(string name, bool dryRun, List<string> deleted, List<string> failures, CancellationToken ct)
    {
        if (dryRun)
        {
            deleted.Add(name);
            return;
        }
        try
        {
            await store.DeleteAsync(name, ct);
            deleted.Add(name);
        }
        catch (ObjectProtectedException e)
        {
            failures.Add(e.Message);
        }
    }
}
