using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.AppData;

public sealed record FilesRestoreRequest(DateOnly Day, string? Prefix = null, string? TargetContainer = null, bool Overwrite = false);

public sealed record FilesRestoreResult(string Manifest, DateTimeOffset SnapshotTime, string Target, int Restored, long RestoredBytes, IReadOnlyList<string> SkippedExisting, IReadOnlyList<string> Failed);

/// <summary>
/// Puts uploaded files back as they were on a given day. Each file is staged on the target and committed
/// only once its SHA-256 matches the manifest; existing files are left alone unless overwriting was asked for.
/// </summary>
public sealed class FilesRestorer(IBackupStore store, FilesSnapshotter snapshots, BlobClientFactory clients, IOptions<AppDataOptions> options)
{
    public async Task<FilesRestoreResult> RestoreAsync(FilesRestoreRequest request, CancellationToken ct)
    {
        var manifest = await snapshots.LatestAsync(request.Day, ct)
            ?? throw new NotFoundException($"no files snapshot was taken on or before {request.Day:yyyy-MM-dd} (see 'floyo-dr files list')");
        var target = clients.Container(options.Value.Uploads(request.TargetContainer));
        var targetName = BlobClientFactory.Describe(target);
        try
        {
            await target.CreateIfNotExistsAsync(PublicAccessType.None, metadata: null, ct);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, targetName);
        }

        var wanted = manifest.Entries.Where(e => request.Prefix is null || e.Name.StartsWith(request.Prefix, StringComparison.Ordinal)).ToList();
        if (wanted.Count == 0)
        {
            throw new NotFoundException($"the snapshot of {manifest.Timestamp:yyyy-MM-dd HH:mm}Z holds no file starting with '{request.Prefix}'");
        }
        var skipped = new ConcurrentBag<string>();
        var failed = new ConcurrentBag<string>();
        int restored = 0;
        long bytes = 0;
        await Parallel.ForEachAsync(wanted, new ParallelOptions { MaxDegreeOfParallelism = options.Value.FilesParallelism, CancellationToken = ct }, async (entry, token) =>
        {
            var blob = target.GetBlockBlobClient(entry.Name);
            try
            {
                if (!request.Overwrite && await blob.ExistsAsync(token))
                {
                    skipped.Add(entry.Name);
                    return;
                }
                await using var content = await store.OpenReadAsync(entry.Object, token);
                using var hashing = new HashingStream(content);
                await using var upload = new BlockUploadStream(blob, 4 << 20, 2, targetName);
                await hashing.CopyToAsync(upload, 1 << 20, token);
                var ids = await upload.CompleteAsync(token);
                if (!string.Equals(hashing.HexDigest(), entry.Sha256, StringComparison.OrdinalIgnoreCase) || hashing.BytesRead != entry.Size)
                {
                    failed.Add($"{entry.Name}: stored copy does not match the snapshot's checksum; not restored");
                    return;
                }
                await blob.CommitBlockListAsync(ids, new CommitBlockListOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = entry.ContentType },
                    Conditions = request.Overwrite ? null : new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, token);
                Interlocked.Increment(ref restored);
                Interlocked.Add(ref bytes, entry.Size);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 && !request.Overwrite)
            {
                skipped.Add(entry.Name);
            }
            catch (Exception e) when (BlobErrors.IsStorageFailure(e) || e is RecoveryException)
            {
                failed.Add($"{entry.Name}: {BlobErrors.Map(e, targetName).Message}");
            }
        });
        return new FilesRestoreResult(FilesManifest.NameFor(manifest.Timestamp), manifest.Timestamp, targetName, restored, bytes,
            [.. skipped.Order(StringComparer.Ordinal)], [.. failed.Order(StringComparer.Ordinal)]);
    }
}
