using System.Text.Json;
using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;

namespace Floyo.Recovery.Backups;

/// <summary>
/// What the store holds, as backups: a backup exists only when its data object and its metadata
/// (written last) are both committed and agree on size. Everything else is invisible.
/// </summary>
public sealed class BackupCatalog(IBackupStore store)
{
    public IBackupStore Store => store;

    /// <summary>Every complete backup, newest first.</summary>
    public async Task<IReadOnlyList<BackupEntry>> ListAsync(CancellationToken ct)
    {
        var objects = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        var verifications = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var acceptances = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync("", ct))
        {
            if (VerificationRecord.BackupOf(item.Name) is { } backup)
            {
                (verifications.TryGetValue(backup, out var list) ? list : verifications[backup] = []).Add(item.Name);
            }
            else if (Acceptance.BackupOf(item.Name) is { } accepted)
            {
                acceptances.Add(accepted);
            }
            else if (!item.Name.Contains('/', StringComparison.Ordinal))
            {
                objects[item.Name] = item;
            }
        }

        var entries = new List<BackupEntry>();
        foreach (var (name, meta) in objects.Where(o => o.Key.EndsWith(BackupName.MetadataSuffix, StringComparison.Ordinal)))
        {
            var dataName = name[..^BackupName.MetadataSuffix.Length];
            if (!BackupName.LooksLikeBackup(dataName) || !objects.TryGetValue(dataName, out var data))
            {
                continue;
            }
            var metadata = await ReadMetadataAsync(name, ct);
            if (metadata is null)
            {
                continue;
            }
            var last = await LatestVerificationAsync(verifications.GetValueOrDefault(dataName), ct);
            var problems = new List<string>();
            if (metadata.SizeBytes != data.Size)
            {
                problems.Add($"size is {data.Size} bytes but the metadata says {metadata.SizeBytes}");
            }
            if (last is { ChecksumMatched: false })
            {
                problems.Add("checksum mismatch found by the last verification");
            }
            var acceptance = acceptances.Contains(dataName) ? await ReadAsync<Acceptance>(Acceptance.NameFor(dataName), ct) : null;
            entries.Add(new BackupEntry(metadata, data, meta, last, problems, acceptance));
        }
        return [.. entries.OrderByDescending(e => e.Metadata.Timestamp).ThenByDescending(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>A backup by the name <c>list</c> prints; refuses paths, unknown names and incomplete backups.</summary>
    public async Task<BackupEntry> FindAsync(string name, CancellationToken ct)
    {
        ObjectName.Check(name);
        if (name.Contains('/', StringComparison.Ordinal) || !BackupName.LooksLikeBackup(name))
        {
            throw new RecoveryException($"'{name}' is not a backup name: give a name as 'floyo-dr list' prints it");
        }
        var entries = await ListAsync(ct);
        return entries.FirstOrDefault(e => e.Name == name)
            ?? throw new RecoveryException($"no complete backup named '{name}' in {store.Location} (see 'floyo-dr list')");
    }

    /// <summary>The newest good backup whose last verification passed, optionally of one database.</summary>
    public async Task<BackupEntry?> LatestVerifiedAsync(string? database, CancellationToken ct) =>
        (await ListAsync(ct)).FirstOrDefault(e => e.IsGood && e.Verified && (database is null || e.Metadata.Database == database));

    /// <summary>The newest good backup, verified or not: what <c>verify --latest</c> proves next.</summary>
    public async Task<BackupEntry?> LatestGoodAsync(string? database, CancellationToken ct) =>
        (await ListAsync(ct)).FirstOrDefault(e => e.IsGood && (database is null || e.Metadata.Database == database));

    private async Task<BackupMetadata?> ReadMetadataAsync(string name, CancellationToken ct)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(name, ct);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct);
            var metadata = BackupMetadata.FromJson(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            // Metadata written before anomaly detection existed has no list: nothing was flagged.
            return metadata.Anomalies is null ? metadata with { Anomalies = [] } : metadata;
        }
        catch (JsonException)
        {
            // Unreadable metadata means no backup we can prove: leave it out rather than guess.
            return null;
        }
    }

    private async Task<VerificationRecord?> LatestVerificationAsync(List<string>? names, CancellationToken ct)
    {
        if (names is null || names.Count == 0)
        {
            return null;
        }
        return await ReadAsync<VerificationRecord>(names.Max(StringComparer.Ordinal)!, ct);
    }

    private async Task<T?> ReadAsync<T>(string name, CancellationToken ct)
    {
        await using var stream = await store.OpenReadAsync(name, ct);
        return await JsonSerializer.DeserializeAsync<T>(stream, Json.Options, ct);
    }
}

public sealed record BackupEntry(
    BackupMetadata Metadata, StoredObject Data, StoredObject MetadataObject, VerificationRecord? LastVerification, IReadOnlyList<string> Problems, Acceptance? Acceptance)
{
    public string Name => Metadata.Name;

    public bool IsValid => Problems.Count == 0;

    public bool Verified => LastVerification is { Passed: true };

    /// <summary>Flagged by anomaly detection and not yet accepted by a person.</summary>
    public bool IsSuspect => Metadata.Anomalies.Count > 0 && Acceptance is null;

    /// <summary>Intact and not suspect: eligible as "the latest good backup".</summary>
    public bool IsGood => IsValid && !IsSuspect;

    public bool LegalHold => Data.LegalHold || MetadataObject.LegalHold;
}
