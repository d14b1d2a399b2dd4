using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.AppData;

public sealed record FilesSnapshotResult(string Manifest, int Files, long Bytes, int CopiedFiles, long CopiedBytes, int ReusedFiles, double DurationSeconds);

public sealed record FilesSnapshotSummary(string Manifest, DateTimeOffset Timestamp, int Files, long Bytes, int CopiedFiles);

/// <summary>
/// Daily snapshot of the uploads container into the backup store. Incremental: a file whose (name, ETag)
/// is already stored is not copied again. Every copied object is committed on its own, and the manifest
/// is written last, so an interrupted run leaves no manifest, and the next run copies only what is missing.
/// Objects that newer snapshots still reference get their retention pushed out, so each snapshot stays
/// restorable (and, on WORM storage, undeletable) for FILES_RETENTION_DAYS.
/// </summary>
public sealed partial class FilesSnapshotter(
    IBackupStore store,
    BlobClientFactory clients,
    IOptions<AppDataOptions> options,
    TimeProvider clock,
    ILogger<FilesSnapshotter> logger)
{
    /// <summary>Objects are kept this much beyond the snapshot that needs them, so retention is extended at most monthly.</summary>
    private static readonly TimeSpan ObjectMargin = TimeSpan.FromDays(30);

    public async Task<FilesSnapshotResult> SnapshotAsync(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var source = clients.Container(options.Value.Uploads());
        var sourceName = BlobClientFactory.Describe(source);
        await using var snapshotLock = await store.LockAsync("files-snapshot", TimeSpan.FromSeconds(30), ct);
        var now = clock.GetUtcNow();
        var keep = TimeSpan.FromDays(options.Value.FilesRetentionDays);

        var last = await LatestAsync(DateOnly.MaxValue, ct);
        var known = last?.Entries.GroupBy(e => e.Object).ToDictionary(g => g.Key, g => g.First().Sha256, StringComparer.Ordinal) ?? [];
        var stored = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(FilesManifest.ObjectPrefix, ct))
        {
            stored[item.Name] = item;
        }

        var items = new List<BlobItem>();
        try
        {
            await foreach (var item in source.GetBlobsAsync(new GetBlobsOptions(), ct))
            {
                items.Add(item);
            }
        }
        catch (RequestFailedException e) when (e.ErrorCode == "ContainerNotFound")
        {
            throw new ConfigurationException($"the uploads container {sourceName} does not exist (UPLOADS_CONTAINER)", e);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, sourceName, "listing uploads");
        }

        var entries = new ConcurrentBag<FileEntry>();
        int copied = 0, reused = 0;
        long copiedBytes = 0;
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = options.Value.FilesParallelism, CancellationToken = ct }, async (item, token) =>
        {
            var etag = item.Properties.ETag?.ToString() ?? throw new RecoveryException($"'{item.Name}' in {sourceName} has no ETag");
            var objectName = FilesManifest.ObjectFor(item.Name, etag);
            string sha;
            long size;
            if (stored.TryGetValue(objectName, out var existing))
            {
                sha = known.TryGetValue(objectName, out var previous) ? previous : await HashStoredAsync(objectName, token);
                size = existing.Size;
                if (existing.RetainUntil is { } until && until < now + keep)
                {
                    await store.ExtendRetentionAsync(objectName, new ObjectRetention(now + keep + ObjectMargin), token);
                }
                Interlocked.Increment(ref reused);
            }
            else
            {
                (sha, size) = await CopyAsync(source.GetBlobClient(item.Name), sourceName, item.Properties.ETag!.Value, objectName, new ObjectRetention(now + keep + ObjectMargin), token);
                Interlocked.Increment(ref copied);
                Interlocked.Add(ref copiedBytes, size);
            }
            entries.Add(new FileEntry(item.Name, objectName, size, sha, item.Properties.ContentType, item.Properties.LastModified ?? now, etag));
        });

        var ordered = entries.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        var manifest = new FilesManifest(FilesManifest.CurrentFormat, now, sourceName, ordered.Count, ordered.Sum(e => e.Size), copied, copiedBytes, ordered);
        var name = FilesManifest.NameFor(now);
        await store.WriteAllAsync(name, JsonSerializer.SerializeToUtf8Bytes(manifest, Json.Options), new ObjectRetention(now + keep), ct);
        LogSnapshot(logger, name, ordered.Count, copied, copiedBytes);
        return new FilesSnapshotResult(name, ordered.Count, manifest.Bytes, copied, copiedBytes, reused, Math.Round(started.Elapsed.TotalSeconds, 3));
    }

    /// <summary>Every complete snapshot, newest first.</summary>
    public async Task<IReadOnlyList<FilesSnapshotSummary>> ListAsync(CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync(FilesManifest.ManifestPrefix, ct))
        {
            if (FilesManifest.TimestampOf(item.Name) is not null)
            {
                names.Add(item.Name);
            }
        }
        var summaries = new List<FilesSnapshotSummary>();
        foreach (var name in names.OrderDescending(StringComparer.Ordinal))
        {
            var manifest = await ReadAsync(name, ct);
            summaries.Add(new FilesSnapshotSummary(name, manifest.Timestamp, manifest.Files, manifest.Bytes, manifest.CopiedFiles));
        }
        return summaries;
    }

    /// <summary>The newest snapshot taken on or before <paramref name="day"/> (UTC), i.e. the files as they were that day.</summary>
    public async Task<FilesManifest?> LatestAsync(DateOnly day, CancellationToken ct)
    {
        string? best = null;
        await foreach (var item in store.ListAsync(FilesManifest.ManifestPrefix, ct))
        {
            if (FilesManifest.TimestampOf(item.Name) is { } at && DateOnly.FromDateTime(at.UtcDateTime) <= day
                && (best is null || string.CompareOrdinal(item.Name, best) > 0))
            {
                best = item.Name;
            }
        }
        return best is null ? null : await ReadAsync(best, ct);
    }

    internal async Task<FilesManifest> ReadAsync(string name, CancellationToken ct)
    {
        await using var stream = await store.OpenReadAsync(name, ct);
        try
        {
            return await JsonSerializer.DeserializeAsync<FilesManifest>(stream, Json.Options, ct)
                ?? throw new IntegrityException($"snapshot manifest {name} is empty");
        }
        catch (JsonException e)
        {
            throw new IntegrityException($"snapshot manifest {name} is not readable: {e.Message}", e);
        }
    }

    private async Task<(string Sha256, long Bytes)> CopyAsync(BlobClient blob, string sourceName, ETag etag, string objectName, ObjectRetention retention, CancellationToken ct)
    {
        try
        {
            // Pinned to the listed ETag: a file rewritten mid-copy fails here rather than mixing versions.
            var download = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, ct);
            await using var content = download.Value.Content;
            using var hashing = new HashingStream(content);
            await using var writer = await store.CreateAsync(objectName, retention, ct);
            await hashing.CopyToAsync(writer.Stream, 1 << 20, ct);
            if (hashing.BytesRead != download.Value.Details.ContentLength)
            {
                throw new RecoveryException($"'{blob.Name}' in {sourceName} ended after {hashing.BytesRead} of {download.Value.Details.ContentLength} bytes; this snapshot was not completed");
            }
            await writer.CommitAsync(ct);
            return (hashing.HexDigest(), hashing.BytesRead);
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            throw new RecoveryException($"'{blob.Name}' in {sourceName} changed while the snapshot was running; run the snapshot again (files already copied are kept)", e);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, sourceName, $"reading '{blob.Name}'");
        }
    }

    private async Task<string> HashStoredAsync(string objectName, CancellationToken ct)
    {
        await using var content = await store.OpenReadAsync(objectName, ct);
        using var hashing = new HashingStream(content);
        await hashing.CopyToAsync(Stream.Null, 1 << 20, ct);
        return hashing.HexDigest();
    }

    [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "Files snapshot {Manifest}: {Files} files, {Copied} copied ({Bytes} bytes)")]
    private static partial void LogSnapshot(ILogger logger, string manifest, int files, int copied, long bytes);
}
