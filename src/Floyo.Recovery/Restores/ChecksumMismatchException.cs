using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Restores;

public sealed class ChecksumMismatchException(string message) : IntegrityException(message)
{
    public ChecksumMismatchException(string name, string expected, string actual, long readBytes, long expectedBytes)
        : this(readBytes == expectedBytes
            ? $"checksum mismatch: {name} has SHA-256 {actual[..12]}… but its metadata records {expected[..Math.Min(12, expected.Length)]}…; the backup is corrupt and was not used"
            : $"checksum mismatch: {name} is {readBytes} bytes but its metadata records {expectedBytes} (truncated or altered); the backup was not used")
    {
    }

    /// <summary>Finishes hashing <paramref name="hashing"/> and throws when it is not the backup's recorded content.</summary>
    public static async Task ThrowIfNotRecordedAsync(HashingStream hashing, BackupMetadata meta, CancellationToken ct)
    {
        await hashing.CopyToAsync(Stream.Null, 1 << 20, ct);
        var actual = hashing.HexDigest();
        if (!string.Equals(actual, meta.Sha256, StringComparison.OrdinalIgnoreCase) || hashing.BytesRead != meta.SizeBytes)
        {
            throw new ChecksumMismatchException(meta.Name, meta.Sha256, actual, hashing.BytesRead, meta.SizeBytes);
        }
    }
}
