using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Wal;

/// <summary>
/// <c>wal push --batch</c>, floyo-dr's archive-async: PostgreSQL runs archive_command once per segment, and a .NET
/// start costs about as much CPU as archiving a segment. So one start archives the segment asked for and, in
/// parallel, the other WAL files PostgreSQL has marked ready (<c>archive_status/*.ready</c>, only read: PostgreSQL
/// owns that folder), and leaves a marker for each of those in <see cref="MarkerFolder"/> once it is durable in the
/// store. The <c>floyo-wal-push</c> wrapper answers PostgreSQL's later call for a marked file in the shell, without
/// starting floyo-dr: a marker newer than the file it names means that file, as it is now, is archived. A marker is
/// never the only proof: without one (lost, stale, the file changed since) the wrapper runs a normal push, which
/// compares with the archive.
/// </summary>
public sealed partial class WalBatchPusher(WalArchive archive, WalOptions options, ILogger<WalBatchPusher> logger)
{
    /// <summary>Beside the WAL files (pg_wal, whose contents base backups skip), like the fetch prefetch spool.</summary>
    public const string MarkerFolder = "floyo-archived";

    public async Task<PushOutcome> PushAsync(string path, CancellationToken ct)
    {
        var full = Path.GetFullPath(path);
        var walDirectory = Path.GetDirectoryName(full)!;
        var requested = Path.GetFileName(full);
        var markers = Path.Combine(walDirectory, MarkerFolder);
        var status = Path.Combine(walDirectory, "archive_status");
        RemoveStaleMarkers(markers, status);

        using var slots = new SemaphoreSlim(options.PushParallelism);
        async Task<PushOutcome> Push(string file)
        {
            await slots.WaitAsync(ct);
            try
            {
                // Reading, hashing and compressing are synchronous: a task of its own, so that files run in parallel.
                return await Task.Run(() => archive.PushAsync(file, ct), ct);
            }
            finally
            {
                slots.Release();
            }
        }

        async Task<bool> PushAhead(string name)
        {
            try
            {
                await Push(Path.Combine(walDirectory, name));
                Directory.CreateDirectory(markers, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                // Written after the push returned (durable); truncating an old marker renews its time.
                await File.WriteAllBytesAsync(Path.Combine(markers, name), [], ct);
                return true;
            }
            catch (Exception e) when (e is RecoveryException or IOException or UnauthorizedAccessException)
            {
                // Not this call's failure: PostgreSQL's own call for that file pushes it again and reports it.
                LogNotArchivedAhead(logger, name, e.Message);
                return false;
            }
        }

        var own = Push(full);
        // Files that became ready while a round ran (the server kept writing) are taken by a further round of this
        // same start, up to WAL_PUSH_BATCH_FILES in all: each start of the process costs more than a segment.
        var attempted = new HashSet<string>(StringComparer.Ordinal) { requested };
        var archivedAhead = 0;
        var rounds = 0;
        for (var budget = options.PushBatchFiles - 1; budget > 0;)
        {
            var ahead = ReadyFiles(walDirectory, status, markers, attempted, budget);
            if (ahead.Count == 0)
            {
                break;
            }
            rounds++;
            attempted.UnionWith(ahead);
            budget -= ahead.Count;
            archivedAhead += (await Task.WhenAll(ahead.Select(PushAhead))).Count(done => done);
        }
        var outcome = await own;
        LogBatch(logger, requested, archivedAhead, attempted.Count - 1, rounds);
        return outcome;
    }

    /// <summary>
    /// The ready WAL files besides the requested one, oldest first (history files before segments, as PostgreSQL
    /// takes them), that are not already marked nor <paramref name="attempted"/> by this start, at most <paramref name="limit"/>.
    /// </summary>
    private static List<string> ReadyFiles(string walDirectory, string status, string markers, HashSet<string> attempted, int limit)
    {
        if (!Directory.Exists(status))
        {
            return [];
        }
        return Directory.EnumerateFiles(status, "*.ready")
            .Select(f => Path.GetFileName(f)[..^".ready".Length])
            .Where(name => !attempted.Contains(name) && WalFileName.TryParse(name, WalFileName.DefaultSegmentSize, out _))
            .Where(name => File.Exists(Path.Combine(walDirectory, name)) && !IsMarked(markers, walDirectory, name))
            .OrderBy(name => name.EndsWith(".history", StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(name => name, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
    }

    /// <summary>What the wrapper tests with <c>[ marker -nt file ]</c>.</summary>
    private static bool IsMarked(string markers, string walDirectory, string name)
    {
        var marker = new FileInfo(Path.Combine(markers, name));
        return marker.Exists && marker.LastWriteTimeUtc > File.GetLastWriteTimeUtc(Path.Combine(walDirectory, name));
    }

    /// <summary>Markers of files PostgreSQL no longer has ready (archived, by the wrapper or otherwise) are of no more use.</summary>
    private static void RemoveStaleMarkers(string markers, string status)
    {
        if (!Directory.Exists(markers))
        {
            return;
        }
        foreach (var marker in Directory.EnumerateFiles(markers))
        {
            if (!File.Exists(Path.Combine(status, Path.GetFileName(marker) + ".ready")))
            {
                try
                {
                    File.Delete(marker);
                }
                catch (IOException)
                {
                    // The wrapper removed it first.
                }
            }
        }
    }

    [LoggerMessage(EventId = 7200, Level = LogLevel.Information, Message = "Archived {WalFile} and {Archived} of {Ready} other ready WAL files in one batch ({Rounds} rounds)")]
    private static partial void LogBatch(ILogger logger, string walFile, int archived, int ready, int rounds);

    [LoggerMessage(EventId = 7201, Level = LogLevel.Warning, Message = "{WalFile} was not archived ahead ({Reason}); PostgreSQL's own archive_command call for it will push it again")]
    private static partial void LogNotArchivedAhead(ILogger logger, string walFile, string reason);
}
