using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Storage.Secondary;

/// <summary>Per backup: is there a second copy, and was it proven (checksum) by the last copy record?</summary>
public sealed record CopyStatus(string Primary, string Secondary, DateTimeOffset? VerifiedAt);

public sealed class CopyStatusReader(BackupStores stores)
{
    /// <summary>
    /// <c>present</c>/<c>missing</c> for the primary; <c>verified</c>, <c>present</c> (not yet proven),
    /// <c>incomplete</c>, <c>mismatch</c>, <c>missing</c>, <c>unreachable</c> or <c>not configured</c> for the second copy.
    /// The secondary is asked live, so a copy removed later shows as missing.
    /// </summary>
    public async Task<CopyStatus> StatusAsync(BackupEntry entry, IBackupStore listedFrom, CancellationToken ct)
    {
        var secondary = stores.Secondary;
        if (secondary is null)
        {
            return new CopyStatus("present", "not configured", null);
        }
        if (ReferenceEquals(listedFrom, secondary))
        {
            // Listing the second copy itself (the primary may be gone): it is what is shown.
            return new CopyStatus("unknown", "present", null);
        }
        StoredObject? data, meta;
        try
        {
            data = await secondary.GetAsync(entry.Name, ct);
            meta = await secondary.GetAsync(BackupName.MetadataOf(entry.Name), ct);
        }
        catch (RecoveryException)
        {
            // The other place being down must not hide the backups that are here.
            return new CopyStatus("present", "unreachable", null);
        }
        if (data is null && meta is null)
        {
            return new CopyStatus("present", "missing", null);
        }
        if (data is null || meta is null || data.Size != entry.Metadata.SizeBytes)
        {
            return new CopyStatus("present", data is null || meta is null ? "incomplete" : "mismatch", null);
        }
        var record = await LatestRecordAsync(listedFrom, entry.Name, ct);
        return record is { Verified: true } && string.Equals(record.Sha256, entry.Metadata.Sha256, StringComparison.OrdinalIgnoreCase)
            ? new CopyStatus("present", "verified", record.Timestamp)
            : new CopyStatus("present", "present", null);
    }

    /// <summary>The newest copy record that is genuinely this backup's; a damaged or foreign one proves nothing.</summary>
    private static async Task<CopyRecord?> LatestRecordAsync(IBackupStore store, string backup, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync($"{CopyRecord.Prefix}{backup}/", ct))
        {
            names.Add(item.Name);
        }
        foreach (var name in names.OrderByDescending(n => n, StringComparer.Ordinal))
        {
            if ((await StoredJson.ReadAsync<CopyRecord>(store, name, ct)).Value is { } record
                && record.Backup == backup && record.Sha256 is not null && CopyRecord.NameFor(backup, record.Timestamp) == name)
            {
                return record;
            }
        }
        return null;
    }
}
