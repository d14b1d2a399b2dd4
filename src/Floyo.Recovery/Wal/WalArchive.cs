using System.Buffers;
using System.Security.Cryptography;
using Floyo.Recovery.Compression;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZstdSharp;

namespace Floyo.Recovery.Wal;

public enum PushOutcome
{
    Archived,
    AlreadyArchived,
}

public enum FetchOutcome
{
    Fetched,
    NotArchived,
}

/// <summary>A WAL file name already archived with other content: archive_command must fail, loudly, and nothing is replaced.</summary>
public sealed class WalConflictException(string message) : RecoveryException(message);

/// <summary>An archived WAL file whose bytes no longer match their recorded checksum.</summary>
public sealed class WalDamagedException(string message) : RecoveryException(message);

/// <summary>
/// The WAL archive in the backup store (<c>wal/</c>), for archive_command and restore_command. Each file is
/// zstd-compressed into a write-once object, then its sidecar record (SHA-256 of the original) is
/// committed: push returns only once both are durable in the store. A name is never rewritten: a re-push
/// of identical content succeeds (PostgreSQL retries after a crash), different content is refused.
/// </summary>
/// <param name="wal">for WAL_PUSH_ZSTD_PARAMETERS; null (an archive that only reads, or a test): its default.</param>
public sealed partial class WalArchive(IBackupStore store, IOptions<BackupOptions> backup, TimeProvider clock, ILogger<WalArchive> logger, IOptions<WalOptions>? wal = null)
{
    // One per archive, so that a batch's segments reuse their compression contexts (libzstd where it is installed).
    private readonly ZstdBufferCompressor _compressor = new(backup.Value.CompressionLevel, (wal?.Value ?? new WalOptions()).PushZstd());

    // Segment and compressed buffers are reused across a batch: fresh 16 MiB arrays cost page faults and zeroing in
    // the kernel on every segment, which profiling showed as a large share of a batch's CPU.
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(maxArrayLength: 1 << 26, maxArraysPerBucket: 8);

    public IBackupStore Store => store;

    public async Task<PushOutcome> PushAsync(string path, CancellationToken ct)
    {
        var file = WalFileName.Parse(Path.GetFileName(path));
        byte[] buffer;
        int length;
        try
        {
            (buffer, length) = ReadWhole(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new RecoveryException($"cannot read the WAL file {path}: {e.Message}");
        }
        try
        {
            return await PushAsync(file, buffer.AsMemory(0, length), ct);
        }
        finally
        {
            _buffers.Return(buffer);
        }
    }

    private async Task<PushOutcome> PushAsync(WalFileName file, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span));

        for (var attempt = 0; ; attempt++)
        {
            if (await CompareExistingAsync(file.Name, sha256, content.Length, ct) is { } existing)
            {
                LogAlreadyArchived(logger, file.Name);
                return existing;
            }
            try
            {
                await WriteAsync(file.Name, content, sha256, ct);
                LogArchived(logger, file.Name, store.Location);
                return PushOutcome.Archived;
            }
            catch (RecoveryException) when (attempt == 0)
            {
                // Another push of the same name may have committed first: then compare with what it wrote.
                if (await store.GetAsync(WalArchiveRecord.DataName(file.Name), ct) is null)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="walFile"/> from the archive to <paramref name="destination"/> (atomically: a
    /// temporary file beside it, renamed), checking both checksums on the way.
    /// </summary>
    /// <param name="durable">fsync before the rename; a prefetch spool is a cache recovery can refill, so it skips that.</param>
    public async Task<FetchOutcome> FetchAsync(string walFile, string destination, CancellationToken ct, bool durable = true)
    {
        WalFileName.Parse(walFile);
        var read = await WalArchiveRecord.ReadAsync(store, walFile, ct);
        if (read.Missing)
        {
            return FetchOutcome.NotArchived;
        }
        if (read.Value is not { } record || record.Name != walFile)
        {
            throw new WalDamagedException($"the archive record of {walFile} {read.Problem ?? "names another file"}; it is not trusted");
        }
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, $".{Path.GetFileName(destination)}.floyo-{Guid.NewGuid():N}");
        try
        {
            Stream stored;
            try
            {
                stored = await store.OpenReadAsync(WalArchiveRecord.DataName(walFile), ct);
            }
            catch (ObjectNotFoundException)
            {
                throw new WalDamagedException($"{walFile} has an archive record but no data in {store.Location}");
            }
            await using (stored)
            {
                using var storedHash = new HashingStream(stored);
                await using var decompress = new DecompressionStream(storedHash, leaveOpen: true);
                await using var output = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
                using var outputHash = new HashingStream(output);
                await decompress.CopyToAsync(outputHash, ct);
                // Drain anything after the last frame so the stored checksum covers every byte.
                await storedHash.CopyToAsync(Stream.Null, ct);
                await output.FlushAsync(ct);
                output.Flush(flushToDisk: durable);
                if (storedHash.HexDigest() != record.StoredSha256 || outputHash.HexDigest() != record.Sha256 || outputHash.BytesWritten != record.Size)
                {
                    throw new WalDamagedException($"{walFile} in {store.Location} does not match its recorded SHA-256: the archived copy is damaged");
                }
            }
            File.Move(temp, destination, overwrite: true);
            LogFetched(logger, walFile);
            return FetchOutcome.Fetched;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Every WAL file the archive holds completely (data and record), by name.</summary>
    public async Task<IReadOnlyDictionary<string, StoredObject>> ListAsync(CancellationToken ct)
    {
        var records = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        var data = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(WalArchiveRecord.Folder, ct))
        {
            if (WalArchiveRecord.WalFileOf(item.Name) is { } walFile)
            {
                records[walFile] = item;
            }
            else if (item.Name.EndsWith(".zst", StringComparison.Ordinal))
            {
                data.Add(item.Name);
            }
        }
        return records.Where(r => data.Contains(WalArchiveRecord.DataName(r.Key))).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
    }

    /// <summary>Reads one archived file whole (history files and backup labels are small).</summary>
    public async Task<byte[]?> ReadAsync(string walFile, CancellationToken ct)
    {
        var destination = Path.Combine(Path.GetTempPath(), $"floyo-wal-{Guid.NewGuid():N}");
        try
        {
            return await FetchAsync(walFile, destination, ct) == FetchOutcome.Fetched ? await File.ReadAllBytesAsync(destination, ct) : null;
        }
        finally
        {
            File.Delete(destination);
        }
    }

    /// <summary>Null when nothing is archived under the name yet; the outcome when identical content is; throws when different content is.</summary>
    private async Task<PushOutcome?> CompareExistingAsync(string walFile, string sha256, long size, CancellationToken ct)
    {
        var read = await WalArchiveRecord.ReadAsync(store, walFile, ct);
        if (read.Value is { } record)
        {
            return record.Sha256 == sha256 && record.Size == size
                ? PushOutcome.AlreadyArchived
                : throw Conflict(walFile);
        }
        if (read.Problem is not null)
        {
            throw new WalDamagedException($"the archive record of {walFile} in {store.Location} {read.Problem}; remove it after checking, nothing was replaced");
        }
        if (await store.GetAsync(WalArchiveRecord.DataName(walFile), ct) is null)
        {
            return null;
        }
        // A push died between committing the data and its record: the data is whole (commits are atomic), so prove it.
        await using var stored = await store.OpenReadAsync(WalArchiveRecord.DataName(walFile), ct);
        using var storedHash = new HashingStream(stored);
        await using var decompress = new DecompressionStream(storedHash, leaveOpen: true);
        using var contentHash = new HashingStream(Stream.Null);
        await decompress.CopyToAsync(contentHash, ct);
        await storedHash.CopyToAsync(Stream.Null, ct);
        if (contentHash.HexDigest() != sha256 || contentHash.BytesWritten != size)
        {
            throw Conflict(walFile);
        }
        await WriteRecordAsync(new WalArchiveRecord(WalArchiveRecord.CurrentFormat, walFile, size, sha256, storedHash.BytesRead, storedHash.HexDigest(), "zstd", clock.GetUtcNow()), ct);
        return PushOutcome.AlreadyArchived;
    }

    private WalConflictException Conflict(string walFile) =>
        new($"{walFile} is already archived in {store.Location} with different content; refusing to overwrite it (two servers archiving into one store, or a server restored without a new timeline?)");

    private async Task WriteAsync(string walFile, ReadOnlyMemory<byte> content, string sha256, CancellationToken ct)
    {
        var output = _buffers.Rent(ZstdBufferCompressor.Bound(content.Length));
        try
        {
            var compressed = output.AsMemory(0, _compressor.Compress(content.Span, output));
            var retention = Retention();
            await store.WriteAllAsync(WalArchiveRecord.DataName(walFile), compressed, retention, ct);
            await WriteRecordAsync(new WalArchiveRecord(WalArchiveRecord.CurrentFormat, walFile, content.Length, sha256,
                compressed.Length, Convert.ToHexStringLower(SHA256.HashData(compressed.Span)), "zstd", clock.GetUtcNow()), ct);
        }
        finally
        {
            _buffers.Return(output);
        }
    }

    /// <summary>The file in one read into a pooled buffer (not zeroed: it is overwritten at once); the caller returns it.</summary>
    private (byte[] Buffer, int Length) ReadWhole(string path)
    {
        using var handle = File.OpenHandle(path);
        var length = checked((int)RandomAccess.GetLength(handle));
        var buffer = _buffers.Rent(length);
        try
        {
            var read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(read, length - read), read);
                if (n == 0)
                {
                    throw new RecoveryException($"cannot read the WAL file {path}: it became shorter while it was read");
                }
                read += n;
            }
            return (buffer, length);
        }
        catch
        {
            _buffers.Return(buffer);
            throw;
        }
    }

    private Task WriteRecordAsync(WalArchiveRecord record, CancellationToken ct) =>
        store.WriteAllAsync(WalArchiveRecord.RecordName(record.Name), record.ToJson(), Retention(), ct);

    // WAL is kept as long as the full backups: a base backup kept that long needs its segments.
    private ObjectRetention Retention() => new(clock.GetUtcNow().AddDays(backup.Value.RetentionDays));

    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "Archived {WalFile} into {Store}")]
    private static partial void LogArchived(ILogger logger, string walFile, string store);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "{WalFile} was already archived with identical content")]
    private static partial void LogAlreadyArchived(ILogger logger, string walFile);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Fetched {WalFile} from the archive")]
    private static partial void LogFetched(ILogger logger, string walFile);
}
