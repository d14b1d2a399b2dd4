using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Storage.Secondary;

/// <summary>The outcome of copying one backup to a further store (also the Durable activity's output).</summary>
public sealed record CopyResult(
    string Backup,
    string Target,
    bool Copied,
    bool Verified,
    string Sha256,
    long Bytes,
    double DurationSeconds,
    string? Problem,
    BackupSource Copy = BackupSource.Secondary);

/// <summary>Stored in the primary store as <c>copies/&lt;backup&gt;/&lt;copy&gt;-&lt;time&gt;.json</c> (secondary, tertiary), never inside the backup.</summary>
public sealed record CopyRecord(string Backup, string Target, DateTimeOffset Timestamp, bool Verified, string Sha256, long Bytes, string? Problem)
{
    public const string Prefix = "copies/";

    public static string NameFor(string backup, BackupSource copy, DateTimeOffset at) =>
        $"{Prefix}{backup}/{copy.ToString().ToLowerInvariant()}-{at.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}.json";
}

/// <summary>
/// Copies a committed backup (data, then metadata last, exactly as a backup is written) to one of the further
/// stores (the second or the third copy), then reads the copy back and proves its SHA-256 against the metadata.
/// Safe to repeat: a copy already there is verified rather than rewritten (the copies are write-once too).
/// </summary>
public sealed partial class BackupCopier(BackupStores stores, BackupCatalog catalog, TimeProvider clock, ILogger<BackupCopier> logger)
{
    public bool IsConfigured(BackupSource copy) => copy != BackupSource.Primary && stores.Has(copy);

    public async Task<CopyResult> CopyAsync(string backupName, BackupSource copy, CancellationToken ct)
    {
        if (copy == BackupSource.Primary)
        {
            throw new UsageException("a backup is copied to the secondary or tertiary store, not to the primary");
        }
        var started = Stopwatch.StartNew();
        var target = stores.For(copy);
        var entry = await catalog.FindAsync(backupName, ct);
        var meta = entry.Metadata;
        var retention = new ObjectRetention(meta.RetainUntil);

        var copied = false;
        string? problem = null;
        if (await target.GetAsync(meta.Name, ct) is null)
        {
            problem = await CopyDataAsync(catalog.Store, target, meta, retention, ct);
            copied = problem is null;
        }
        if (problem is null && await target.GetAsync(BackupName.MetadataOf(meta.Name), ct) is null)
        {
            await target.WriteAllAsync(BackupName.MetadataOf(meta.Name), meta.ToJson(), retention, ct);
            copied = true;
        }
        var (sha, bytes) = problem is null ? await HashAsync(target, meta.Name, ct) : ("", 0L);
        if (problem is null && (!string.Equals(sha, meta.Sha256, StringComparison.OrdinalIgnoreCase) || bytes != meta.SizeBytes))
        {
            problem = $"the copy in {target.Location} has SHA-256 {Short(sha)} and {bytes} bytes, but the backup has {Short(meta.Sha256)} and {meta.SizeBytes} bytes";
        }
        if (problem is null && !await MetadataMatchesAsync(target, meta, ct))
        {
            problem = $"the metadata copied to {target.Location} does not describe the same backup";
        }

        if (problem is null && entry.LastVerification is { Passed: true } proof)
        {
            // The copy is byte-for-byte the verified backup (same SHA-256): its proof travels with it, so the
            // other place can name its latest verified backup when the first is gone.
            var proofName = VerificationRecord.NameFor(meta.Name, proof.Timestamp);
            if (await target.GetAsync(proofName, ct) is null)
            {
                await target.WriteAllAsync(proofName, JsonSerializer.SerializeToUtf8Bytes(proof, Json.Options), retention, ct);
            }
        }

        var now = clock.GetUtcNow();
        var result = new CopyResult(meta.Name, target.Location, copied, problem is null, sha, bytes, Math.Round(started.Elapsed.TotalSeconds, 3), problem, copy);
        var record = new CopyRecord(meta.Name, target.Location, now, result.Verified, sha, bytes, problem);
        await catalog.Store.WriteAllAsync(CopyRecord.NameFor(meta.Name, copy, now), JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), retention, ct);
        LogCopied(logger, BackupStores.Ordinal(copy), meta.Name, target.Location, result.Verified, problem ?? "");
        return result;
    }

    /// <summary>Streams data across, hashing on the way; a source that does not match its own metadata is never committed.</summary>
    private static async Task<string?> CopyDataAsync(IBackupStore source, IBackupStore target, BackupMetadata meta, ObjectRetention retention, CancellationToken ct)
    {
        await using var input = await source.OpenReadAsync(meta.Name, ct);
        using var hashing = new HashingStream(input);
        await using var writer = await target.CreateAsync(meta.Name, retention, ct);
        await hashing.CopyToAsync(writer.Stream, 1 << 20, ct);
        if (!string.Equals(hashing.HexDigest(), meta.Sha256, StringComparison.OrdinalIgnoreCase) || hashing.BytesRead != meta.SizeBytes)
        {
            return $"the primary copy of {meta.Name} does not match its metadata (SHA-256 {Short(hashing.HexDigest())}, {hashing.BytesRead} bytes); nothing was copied";
        }
        await writer.CommitAsync(ct);
        return null;
    }

    private static async Task<(string Sha256, long Bytes)> HashAsync(IBackupStore store, string name, CancellationToken ct)
    {
        await using var input = await store.OpenReadAsync(name, ct);
        using var hashing = new HashingStream(input);
        await hashing.CopyToAsync(Stream.Null, 1 << 20, ct);
        return (hashing.HexDigest(), hashing.BytesRead);
    }

    private static async Task<bool> MetadataMatchesAsync(IBackupStore store, BackupMetadata meta, CancellationToken ct)
    {
        await using var input = await store.OpenReadAsync(BackupName.MetadataOf(meta.Name), ct);
        using var buffer = new MemoryStream();
        await input.CopyToAsync(buffer, ct);
        try
        {
            var copy = BackupMetadata.FromJson(buffer.ToArray());
            return copy.Name == meta.Name && copy.Sha256 == meta.Sha256 && copy.SizeBytes == meta.SizeBytes;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] + "…" : sha;

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "The {Copy} copy of {Backup} in {Target}: verified={Verified} {Problem}")]
    private static partial void LogCopied(ILogger logger, string copy, string backup, string target, bool verified, string problem);
}
