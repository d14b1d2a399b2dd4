using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Wal;

public sealed record BaseBackupEntry(BaseBackupMetadata Metadata, StoredObject Data)
{
    public string Name => Metadata.Name;
}

/// <summary>
/// Base backups in the store (<c>base/</c>). Kept apart from the logical dumps' catalogue, whose restore,
/// verification and retention are pg_restore's: a base backup exists only when its tar and its metadata
/// (written last) are both committed and agree on size.
/// </summary>
public sealed class BaseBackupCatalog(IBackupStore store)
{
    public const string Extension = ".tar.zst";

    public static string MetadataOf(string name) => name + BackupName.MetadataSuffix;

    /// <summary>Every complete base backup, newest first.</summary>
    public async Task<IReadOnlyList<BaseBackupEntry>> ListAsync(CancellationToken ct)
    {
        var objects = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(BaseBackupMetadata.Folder, ct))
        {
            objects[item.Name] = item;
        }
        var entries = new List<BaseBackupEntry>();
        foreach (var (name, data) in objects.Where(o => o.Key.EndsWith(Extension, StringComparison.Ordinal)))
        {
            if (!objects.ContainsKey(MetadataOf(name)))
            {
                continue;
            }
            var read = await StoredJson.ReadAsync<BaseBackupMetadata>(store, MetadataOf(name), ct);
            if (read.Value is { } meta && meta.Name == name && meta.SizeBytes == data.Size && meta.Sha256 is not null && meta.StartLsn is not null)
            {
                entries.Add(new BaseBackupEntry(meta, data));
            }
        }
        return [.. entries.OrderByDescending(e => e.Metadata.StopTime)];
    }
}
