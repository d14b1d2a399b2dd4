using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Options;
using ZstdSharp;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Brings a backup out of the store as a local dump that pg_restore can read in parallel, checking
/// the SHA-256 of every stored byte on the way: the path for archives <see cref="StreamingRestorer"/>
/// cannot stream. Nothing is handed to a restore until the whole stream matches the metadata.
/// </summary>
public sealed class BackupFetcher(IOptions<DatabaseOptions> options)
{
    public async Task<LocalDump> FetchAsync(IBackupStore store, BackupEntry entry, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var meta = entry.Metadata;
        var path = Path.Combine(WorkDirectory.Create(options.Value), $"{Guid.NewGuid():N}.dump");
        var local = new LocalDump(path);
        try
        {
            await using var source = await store.OpenReadAsync(meta.Name, ct);
            using var hashing = new HashingStream(source);
            string? decodeFailure = null;
            long written = 0;
            await using (var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 20,
                Options = FileOptions.Asynchronous, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                try
                {
                    await using var decoded = meta.IsCompressed ? new DecompressionStream(hashing, 1 << 20, leaveOpen: true) : (Stream)hashing;
                    // Two buffers: one is written to disk while the next is decompressed into the other.
                    byte[] buffer = new byte[1 << 20], spare = new byte[1 << 20];
                    var pending = Task.CompletedTask;
                    int read;
                    while ((read = await decoded.ReadAsync(buffer, ct)) > 0)
                    {
                        await pending;
                        pending = file.WriteAsync(buffer.AsMemory(0, read), ct).AsTask();
                        (buffer, spare) = (spare, buffer);
                        written += read;
                        progress?.Report(new TransferProgress("fetch", hashing.BytesRead, written));
                    }
                    await pending;
                }
                catch (Exception e) when (e is ZstdException or EndOfStreamException or InvalidDataException)
                {
                    decodeFailure = e.Message;
                }
            }
            // Hashes whatever follows the zstd frame too: the checksum covers the whole object.
            await ChecksumMismatchException.ThrowIfNotRecordedAsync(hashing, meta, ct);
            if (decodeFailure is not null || written != meta.DumpBytes)
            {
                throw new IntegrityException($"{meta.Name} matches its checksum but does not decode to the {meta.DumpBytes} bytes pg_dump wrote ({decodeFailure ?? $"{written} bytes"}); nothing was restored");
            }
            return local;
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }
}
