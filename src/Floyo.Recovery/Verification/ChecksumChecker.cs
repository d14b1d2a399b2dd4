using Floyo.Recovery.Backups;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Verification;

/// <summary>The outcome of reading one stored backup end to end and hashing it.</summary>
public sealed record ChecksumCheck(string Backup, bool Matched, long Bytes, string? Problem);

/// <summary>
/// Proves a stored backup still holds exactly the bytes its metadata describes (SHA-256 and size), reading
/// it from the store without keeping a copy: cheap enough to run over every backup, weekly.
/// </summary>
public static class ChecksumChecker
{
    public static async Task<ChecksumCheck> CheckAsync(IBackupStore store, BackupEntry entry, CancellationToken ct)
    {
        var meta = entry.Metadata;
        await using var source = await store.OpenReadAsync(meta.Name, ct);
        using var hashing = new HashingStream(source);
        await hashing.CopyToAsync(Stream.Null, 1 << 20, ct);
        var actual = hashing.HexDigest();
        if (hashing.BytesRead != meta.SizeBytes || !string.Equals(actual, meta.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            var problem = new ChecksumMismatchException(meta.Name, meta.Sha256, actual, hashing.BytesRead, meta.SizeBytes).Message;
            return new ChecksumCheck(meta.Name, false, hashing.BytesRead, problem);
        }
        return new ChecksumCheck(meta.Name, true, hashing.BytesRead, null);
    }

    /// <summary>Throws <see cref="ChecksumMismatchException"/> unless the stored bytes are exactly the recorded ones.</summary>
    public static async Task ProveAsync(IBackupStore store, BackupEntry entry, CancellationToken ct)
    {
        var check = await CheckAsync(store, entry, ct);
        if (!check.Matched)
        {
            throw new ChecksumMismatchException(check.Problem!);
        }
    }
}
