using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>What one run of <see cref="WalCopier"/> did for one further copy (also the Durable activity's output).</summary>
/// <param name="Conflicts">Names the copy already holds with other content: never overwritten, each a failure.</param>
/// <param name="Problems">Anything else that kept a file from being copied and proven (the primary's own copy damaged, the copy unreachable).</param>
public sealed record WalCopyResult(
    BackupSource Copy,
    string Target,
    int WalFilesCopied,
    int BaseBackupsCopied,
    int RecordsCopied,
    int AlreadyThere,
    long BytesCopied,
    string? NewestSegment,
    IReadOnlyList<string> Conflicts,
    IReadOnlyList<string> Problems,
    double DurationSeconds)
{
    public bool Complete => Conflicts.Count == 0 && Problems.Count == 0;

    public string Describe() =>
        $"{BackupStores.Ordinal(Copy)} copy {Target}: {WalFilesCopied} WAL files, {BaseBackupsCopied} base backups, {RecordsCopied} incremental records copied and verified, {AlreadyThere} already there; newest segment {NewestSegment ?? "none"}"
        + (Conflicts.Count > 0 ? $"; REFUSED {Conflicts.Count}: {string.Join("; ", Conflicts.Take(3))}" : "")
        + (Problems.Count > 0 ? $"; FAILED {Problems.Count}: {string.Join("; ", Problems.Take(3))}" : "");
}

/// <summary>
/// Brings the point-in-time recovery material of the primary store (<c>wal/</c>: segments, timeline histories,
/// backup labels; <c>base/</c>: base backups and incremental records) to each further copy that lacks it. Each
/// file is streamed across with its SHA-256 checked against the primary's record, read back from the copy and
/// checked again, and only then is its record (the base backup's metadata) written, last, so the copy's archive
/// never shows a file it cannot serve. Write-once with the copy's own immutability and the primary's retain-until.
/// A name the copy already holds is left alone; with other content it is refused, loudly, and never overwritten.
/// Runs after each base backup, in the 6-hourly incremental and as <c>floyo-dr wal copy</c>; never inside
/// <c>wal push</c>, which stays as fast as the primary store allows.
/// </summary>
public sealed partial class WalCopier(BackupStores stores, IOptions<BackupOptions> backup, IOptions<WalOptions> wal, ILogger<WalCopier> logger)
{
    private const string LockKey = "wal-copy";

    /// <summary>Every configured further copy, one after the other; one copy down does not stop the next. Empty when none is configured.</summary>
    public async Task<IReadOnlyList<WalCopyResult>> CopyToEveryCopyAsync(bool verify, CancellationToken ct)
    {
        var results = new List<WalCopyResult>();
        foreach (var copy in BackupStores.Copies.Where(stores.Has))
        {
            try
            {
                results.Add(await CopyAsync(copy, verify, ct));
            }
            catch (Exception e) when (e is RecoveryException or IOException or UnauthorizedAccessException)
            {
                // A copy's store that is missing, read-only or refusing (a filesystem one throws plain IO errors from its lock) is that copy's problem, not the run's.
                LogProblem(logger, BackupStores.Ordinal(copy), e.Message);
                results.Add(new WalCopyResult(copy, SafeLocation(copy), 0, 0, 0, 0, 0, null, [], [e.Message], 0));
            }
        }
        return results;
    }

    /// <param name="verify">Also prove every file the copy already holds (its record against the primary's, its data by SHA-256); otherwise those are compared by size, except the sample (WAL_COPY_VERIFY_SAMPLE).</param>
    public async Task<WalCopyResult> CopyAsync(BackupSource copy, bool verify, CancellationToken ct)
    {
        if (copy == BackupSource.Primary)
        {
            throw new UsageException("the WAL archive is copied to the secondary or tertiary store, not to the primary");
        }
        var started = Stopwatch.StartNew();
        var source = stores.Primary;
        var target = stores.For(copy);
        var run = new Run(BackupStores.Ordinal(copy), source, target, verify) { Sample = wal.Value.CopyVerifySample };
        // One copier per copy at a time: the incremental timer and a base backup's copy may meet.
        await using (await target.LockAsync(LockKey, TimeSpan.FromMinutes(10), ct))
        {
            await CopyWalAsync(run, ct);
            await CopyBaseBackupsAsync(run, ct);
            await CopyIncrementalRecordsAsync(run, ct);
        }
        var newest = await NewestSegmentAsync(target, ct);
        var result = new WalCopyResult(copy, target.Location, run.WalFiles, run.Bases, run.Records, run.AlreadyThere, run.Bytes, newest,
            run.Conflicts, run.Problems, Math.Round(started.Elapsed.TotalSeconds, 3));
        LogCopied(logger, run.Which, target.Location, run.WalFiles, run.Bases, run.AlreadyThere, run.Conflicts.Count + run.Problems.Count);
        return result;
    }

    /// <summary>The newest WAL segment (not a history file, label or partial) a store holds completely, by name.</summary>
    public static async Task<string?> NewestSegmentAsync(IBackupStore store, CancellationToken ct)
    {
        var objects = await ListAsync(store, WalArchiveRecord.Folder, ct);
        return objects.Keys
            .Select(WalArchiveRecord.WalFileOf)
            .OfType<string>()
            .Where(w => objects.ContainsKey(WalArchiveRecord.DataName(w)) && WalFileName.TryParse(w, WalFileName.DefaultSegmentSize, out var f) && f!.Kind == WalFileKind.Segment)
            .Max(StringComparer.Ordinal);
    }

    private sealed class Run(string which, IBackupStore source, IBackupStore target, bool verify)
    {
        public string Which { get; } = which;
        public IBackupStore Source { get; } = source;
        public IBackupStore Target { get; } = target;
        public bool Verify { get; } = verify;

        /// <summary>How many of the newest segments the copy holds are proven by SHA-256 even without <see cref="Verify"/> (with its newest base backup).</summary>
        public int Sample { get; init; }
        public List<string> Conflicts { get; } = [];
        public List<string> Problems { get; } = [];
        public int WalFiles { get; set; }
        public int Bases { get; set; }
        public int Records { get; set; }
        public int AlreadyThere { get; set; }
        public long Bytes { get; set; }

        public string Refused(string name, string why) =>
            $"{name} is already in the {Which} copy {Target.Location} with different content ({why}); refusing to overwrite it: compare it with {Source.Location} and remove the wrong one";
    }

    /// <summary>Oldest first (timeline histories sort before their timeline's segments), so an interrupted run leaves the copy's archive continuous.</summary>
    private async Task CopyWalAsync(Run run, CancellationToken ct)
    {
        var from = await ListAsync(run.Source, WalArchiveRecord.Folder, ct);
        var there = await ListAsync(run.Target, WalArchiveRecord.Folder, ct);
        var files = from.Keys.Select(WalArchiveRecord.WalFileOf).OfType<string>()
            .Where(w => from.ContainsKey(WalArchiveRecord.DataName(w)))
            .Order(StringComparer.Ordinal)
            .ToList();
        // What a PITR from the copy reads last, and a size cannot vouch for: the newest segments the copy already holds.
        var sampled = files
            .Where(w => there.ContainsKey(WalArchiveRecord.DataName(w)) && there.ContainsKey(WalArchiveRecord.RecordName(w)) && IsSegment(w))
            .TakeLast(run.Verify ? 0 : run.Sample)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var walFile in files)
        {
            ct.ThrowIfCancellationRequested();
            var dataName = WalArchiveRecord.DataName(walFile);
            var recordName = WalArchiveRecord.RecordName(walFile);
            var copyData = there.GetValueOrDefault(dataName);
            var copyRecord = there.GetValueOrDefault(recordName);
            if (copyData is not null && copyRecord is not null && !run.Verify && (!sampled.Contains(walFile) || copyData.Size != from[dataName].Size))
            {
                if (copyData.Size != from[dataName].Size)
                {
                    Conflict(run, run.Refused(walFile, $"{copyData.Size} stored bytes there, {from[dataName].Size} in the primary"));
                }
                else
                {
                    run.AlreadyThere++;
                }
                continue;
            }
            var (recordBytes, record) = await ReadRecordAsync(run.Source, recordName, ct);
            if (record is null || record.Name != walFile)
            {
                run.Problems.Add($"the primary's archive record of {walFile} is unreadable or names another file; {walFile} was not copied");
                continue;
            }
            if (copyRecord is not null)
            {
                var (_, theirs) = await ReadRecordAsync(run.Target, recordName, ct);
                if (theirs is null || theirs.Sha256 != record.Sha256 || theirs.Size != record.Size || theirs.StoredSha256 != record.StoredSha256)
                {
                    Conflict(run, run.Refused(walFile, "its archive record there has another SHA-256"));
                    continue;
                }
            }
            var retention = new ObjectRetention(from[dataName].RetainUntil ?? record.ArchivedAt.AddDays(backup.Value.RetentionDays));
            var copied = await CopyObjectAsync(run, dataName, record.StoredSha256, record.StoredBytes, copyData is not null, retention, ct);
            if (copied is null)
            {
                continue;
            }
            if (copyRecord is null)
            {
                // The record last: only now does the copy's archive hold this file.
                await run.Target.WriteAllAsync(recordName, recordBytes!, retention, ct);
            }
            if (copied == true || copyRecord is null)
            {
                run.WalFiles++;
            }
            else
            {
                run.AlreadyThere++;
            }
        }
    }

    private async Task CopyBaseBackupsAsync(Run run, CancellationToken ct)
    {
        var there = await ListAsync(run.Target, BaseBackupMetadata.Folder, ct);
        var entries = await new BaseBackupCatalog(run.Source).ListAsync(ct);
        // The base backup a PITR from the copy would start from: proven by SHA-256 on every run while sampling.
        var sampledBase = run.Verify || run.Sample == 0 ? null : entries.FirstOrDefault(e => there.ContainsKey(e.Metadata.Name) && there.ContainsKey(BaseBackupCatalog.MetadataOf(e.Metadata.Name)))?.Metadata.Name;
        foreach (var entry in entries.Reverse())
        {
            ct.ThrowIfCancellationRequested();
            var meta = entry.Metadata;
            var metaName = BaseBackupCatalog.MetadataOf(meta.Name);
            var copyData = there.GetValueOrDefault(meta.Name);
            var copyMeta = there.GetValueOrDefault(metaName);
            if (copyData is not null && copyMeta is not null && !run.Verify && (meta.Name != sampledBase || copyData.Size != meta.SizeBytes))
            {
                if (copyData.Size != meta.SizeBytes)
                {
                    Conflict(run, run.Refused(meta.Name, $"{copyData.Size} bytes there, {meta.SizeBytes} in the primary"));
                }
                else
                {
                    run.AlreadyThere++;
                }
                continue;
            }
            if (copyMeta is not null)
            {
                var theirs = (await StoredJson.ReadAsync<BaseBackupMetadata>(run.Target, metaName, ct)).Value;
                if (theirs is null || theirs.Sha256 != meta.Sha256 || theirs.SizeBytes != meta.SizeBytes || theirs.StartLsn != meta.StartLsn)
                {
                    Conflict(run, run.Refused(meta.Name, "its metadata there describes another backup"));
                    continue;
                }
            }
            var retention = new ObjectRetention(meta.RetainUntil);
            var copied = await CopyObjectAsync(run, meta.Name, meta.Sha256, meta.SizeBytes, copyData is not null, retention, ct);
            if (copied is null)
            {
                continue;
            }
            if (copyMeta is null)
            {
                // The metadata last, byte for byte the primary's: the copy's catalogue shows the backup only now.
                await run.Target.WriteAllAsync(metaName, await ReadAllAsync(run.Source, metaName, ct), retention, ct);
            }
            if (copied == true || copyMeta is null)
            {
                run.Bases++;
            }
            else
            {
                run.AlreadyThere++;
            }
        }
    }

    /// <summary>The incremental records (small, write-once), so <c>list --source</c> on the copy shows what was proven.</summary>
    private async Task CopyIncrementalRecordsAsync(Run run, CancellationToken ct)
    {
        var there = await ListAsync(run.Target, IncrementalBackupRecord.Prefix, ct);
        foreach (var record in (await IncrementalBackupRecord.ListAsync(run.Source, ct)).Reverse())
        {
            var bytes = await ReadAllAsync(run.Source, record.Name, ct);
            if (there.TryGetValue(record.Name, out var existing))
            {
                var theirs = existing.Size == bytes.Length && run.Verify ? await ReadAllAsync(run.Target, record.Name, ct) : null;
                if (existing.Size != bytes.Length || theirs is not null && !theirs.AsSpan().SequenceEqual(bytes))
                {
                    Conflict(run, run.Refused(record.Name, "another record"));
                }
                else
                {
                    run.AlreadyThere++;
                }
                continue;
            }
            await run.Target.WriteAllAsync(record.Name, bytes, new ObjectRetention(record.RetainUntil), ct);
            run.Records++;
        }
    }

    /// <summary>
    /// True: copied and proven by reading it back; false: already there and proven the same; null: refused or not
    /// copied (recorded in the run). Nothing that fails its SHA-256 on the way is ever committed.
    /// </summary>
    private async Task<bool?> CopyObjectAsync(Run run, string name, string sha256, long bytes, bool present, ObjectRetention retention, CancellationToken ct)
    {
        if (present)
        {
            var (theirs, theirBytes) = await HashAsync(run.Target, name, ct);
            if (!string.Equals(theirs, sha256, StringComparison.OrdinalIgnoreCase) || theirBytes != bytes)
            {
                Conflict(run, run.Refused(name, $"SHA-256 {Short(theirs)} there, {Short(sha256)} recorded in the primary"));
                return null;
            }
            return false;
        }
        try
        {
            await using (var input = await run.Source.OpenReadAsync(name, ct))
            {
                using var hashing = new HashingStream(input);
                await using var writer = await run.Target.CreateAsync(name, retention, ct);
                await hashing.CopyToAsync(writer.Stream, 1 << 20, ct);
                if (!string.Equals(hashing.HexDigest(), sha256, StringComparison.OrdinalIgnoreCase) || hashing.BytesRead != bytes)
                {
                    run.Problems.Add($"the primary's {name} does not match its record (SHA-256 {Short(hashing.HexDigest())}, {hashing.BytesRead} bytes); it was not copied");
                    return null;
                }
                await writer.CommitAsync(ct);
            }
        }
        catch (RefusedException)
        {
            // Committed there meanwhile (another copier, another engineer): prove it like any file already there.
            return await CopyObjectAsync(run, name, sha256, bytes, present: true, retention, ct);
        }
        var (copied, copiedBytes) = await HashAsync(run.Target, name, ct);
        if (!string.Equals(copied, sha256, StringComparison.OrdinalIgnoreCase) || copiedBytes != bytes)
        {
            run.Problems.Add($"{name} read back from the {run.Which} copy {run.Target.Location} has SHA-256 {Short(copied)}, not {Short(sha256)}: the copy is damaged; its record was not written");
            return null;
        }
        run.Bytes += bytes;
        return true;
    }

    private void Conflict(Run run, string message)
    {
        run.Conflicts.Add(message);
        LogConflict(logger, message);
    }

    private static async Task<(byte[]? Bytes, WalArchiveRecord? Record)> ReadRecordAsync(IBackupStore store, string name, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await ReadAllAsync(store, name, ct);
        }
        catch (ObjectNotFoundException)
        {
            return (null, null);
        }
        try
        {
            return (bytes, JsonSerializer.Deserialize<WalArchiveRecord>(bytes, Backups.Json.Options));
        }
        catch (JsonException)
        {
            return (bytes, null);
        }
    }

    private static async Task<byte[]> ReadAllAsync(IBackupStore store, string name, CancellationToken ct)
    {
        await using var input = await store.OpenReadAsync(name, ct);
        using var buffer = new MemoryStream();
        await input.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    private static async Task<(string Sha256, long Bytes)> HashAsync(IBackupStore store, string name, CancellationToken ct)
    {
        await using var input = await store.OpenReadAsync(name, ct);
        using var hashing = new HashingStream(input);
        await hashing.CopyToAsync(Stream.Null, 1 << 20, ct);
        return (hashing.HexDigest(), hashing.BytesRead);
    }

    private static async Task<Dictionary<string, StoredObject>> ListAsync(IBackupStore store, string prefix, CancellationToken ct)
    {
        var objects = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(prefix, ct))
        {
            objects[item.Name] = item;
        }
        return objects;
    }

    private string SafeLocation(BackupSource copy)
    {
        try
        {
            return stores.For(copy).Location;
        }
        catch (RecoveryException)
        {
            return BackupStores.Ordinal(copy) + " copy";
        }
    }

    private static bool IsSegment(string walFile) =>
        WalFileName.TryParse(walFile, WalFileName.DefaultSegmentSize, out var f) && f!.Kind == WalFileKind.Segment;

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] + "…" : sha;

    [LoggerMessage(EventId = 7300, Level = LogLevel.Information, Message = "WAL archive copied to the {Copy} copy {Target}: {WalFiles} WAL files, {Bases} base backups copied, {AlreadyThere} already there, {Failures} refused or failed")]
    private static partial void LogCopied(ILogger logger, string copy, string target, int walFiles, int bases, int alreadyThere, int failures);

    [LoggerMessage(EventId = 7301, Level = LogLevel.Error, Message = "{Message}")]
    private static partial void LogConflict(ILogger logger, string message);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Warning, Message = "The WAL archive was not copied to the {Copy} copy: {Reason}")]
    private static partial void LogProblem(ILogger logger, string copy, string reason);
}
