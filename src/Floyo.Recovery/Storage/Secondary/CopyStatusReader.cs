using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Storage.Secondary;

/// <summary>
/// Per backup: is there a second (and a third) copy, and was it proven (checksum) by the last copy record?
/// <see cref="Secondary"/>/<see cref="VerifiedAt"/> keep their names for scripts that read them; the third
/// copy has its own pair.
/// </summary>
public sealed record CopyStatus(string Primary, string Secondary, DateTimeOffset? VerifiedAt, string Tertiary = "not configured", DateTimeOffset? TertiaryVerifiedAt = null);

public sealed class CopyStatusReader(BackupStores stores)
{
    /// <summary>
    /// <c>present</c>/<c>missing</c>/<c>unknown</c> for the primary; for each further copy <c>verified</c>,
    /// <c>present</c> (not yet proven), <c>incomplete</c>, <c>mismatch</c>, <c>missing</c>, <c>unreachable</c> or
    /// <c>not configured</c>. The copies are asked live, so a copy removed later shows as missing.
    /// </summary>
    public async Task<CopyStatus> StatusAsync(BackupEntry entry, IBackupStore listedFrom, CancellationToken ct)
    {
        var listingACopy = BackupStores.Copies.Any(c => stores.Has(c) && ReferenceEquals(listedFrom, stores.CopyStore(c)));
        var (secondary, secondaryAt) = await StateAsync(entry, listedFrom, BackupSource.Secondary, ct);
        var (tertiary, tertiaryAt) = await StateAsync(entry, listedFrom, BackupSource.Tertiary, ct);
        return new CopyStatus(listingACopy ? "unknown" : "present", secondary, secondaryAt, tertiary, tertiaryAt);
    }

    /// <summary>One copy's state, as seen from the store the backup was listed in.</summary>
    public async Task<(string State, DateTimeOffset? VerifiedAt)> StateAsync(BackupEntry entry, IBackupStore listedFrom, BackupSource copy, CancellationToken ct)
    {
        var store = stores.CopyStore(copy);
        if (store is null)
        {
            return ("not configured", null);
        }
        if (ReferenceEquals(listedFrom, store))
        {
            // Listing this copy itself (the primary may be gone): it is what is shown.
            return ("present", null);
        }
        StoredObject? data, meta;
        try
        {
            data = await store.GetAsync(entry.Name, ct);
            meta = await store.GetAsync(BackupName.MetadataOf(entry.Name), ct);
        }
        catch (RecoveryException)
        {
            // The other place being down must not hide the backups that are here.
            return ("unreachable", null);
        }
        if (data is null && meta is null)
        {
            return ("missing", null);
        }
        if (data is null || meta is null || data.Size != entry.Metadata.SizeBytes)
        {
            return (data is null || meta is null ? "incomplete" : "mismatch", null);
        }
        var record = await LatestRecordAsync(listedFrom, entry.Name, copy, ct);
        return record is { Verified: true } && string.Equals(record.Sha256, entry.Metadata.Sha256, StringComparison.OrdinalIgnoreCase)
            ? ("verified", record.Timestamp)
            : ("present", null);
    }

    /// <summary>The newest copy record that is genuinely this backup's; a damaged or foreign one proves nothing.</summary>
    private static async Task<CopyRecord?> LatestRecordAsync(IBackupStore store, string backup, BackupSource copy, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync($"{CopyRecord.Prefix}{backup}/", ct))
        {
            names.Add(item.Name);
        }
        var own = $"{CopyRecord.Prefix}{backup}/{copy.ToString().ToLowerInvariant()}-";
        foreach (var name in names.Where(n => n.StartsWith(own, StringComparison.Ordinal)).OrderByDescending(n => n, StringComparer.Ordinal))
        {
            if ((await StoredJson.ReadAsync<CopyRecord>(store, name, ct)).Value is { } record
                && record.Backup == backup && record.Sha256 is not null && CopyRecord.NameFor(backup, copy, record.Timestamp) == name)
            {
                return record;
            }
        }
        return null;
    }
}
