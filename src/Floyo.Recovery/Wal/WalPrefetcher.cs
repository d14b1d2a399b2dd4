using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Wal;

/// <summary>
/// restore_command runs once per segment, and a .NET start costs more than replaying a segment. So one
/// <c>wal fetch --prefetch n</c> also fetches the next n segments of the timeline, in parallel and checked like
/// any fetch, into <see cref="SpoolFolder"/> beside the destination; the restore_command a PITR writes takes a
/// spooled segment with a plain <c>mv</c> and starts floyo-dr only on a miss. The archive never holds two
/// contents under one name, so a spooled file is the archived one.
/// </summary>
public sealed partial class WalPrefetcher(WalArchive archive, ILogger<WalPrefetcher> logger)
{
    /// <summary>The spool's folder name inside the destination's folder (pg_wal, whose contents base backups skip).</summary>
    public const string SpoolFolder = "floyo-prefetch";

    public async Task<FetchOutcome> FetchAsync(string walFile, string destination, int prefetch, CancellationToken ct)
    {
        if (prefetch is < 0 or > 256)
        {
            throw new UsageException($"--prefetch {prefetch}: between 0 and 256 segments");
        }
        var name = WalFileName.Parse(walFile);
        var spool = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, SpoolFolder);
        var spooled = Path.Combine(spool, walFile);
        if (File.Exists(spooled))
        {
            File.Move(spooled, destination, overwrite: true);
            return FetchOutcome.Fetched;
        }
        var fetched = archive.FetchAsync(walFile, destination, ct);
        if (prefetch <= 0 || name.Kind != WalFileKind.Segment)
        {
            return await fetched;
        }
        Directory.CreateDirectory(spool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // The requested segment is fetched alongside the first of the next ones; a segment the archive does not
        // have (its end) stops the prefetch there, quietly: PostgreSQL will ask and be told by a plain fetch.
        var ahead = Enumerable.Range(1, prefetch)
            .Select(i => WalFileName.SegmentName(name.Timeline, name.SegmentNumber + (ulong)i))
            .Where(next => !File.Exists(Path.Combine(spool, next)))
            .ToList();
        var stop = 0;
        await Parallel.ForEachAsync(ahead, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = ct }, async (next, token) =>
        {
            if (Volatile.Read(ref stop) != 0)
            {
                return;
            }
            try
            {
                if (await archive.FetchAsync(next, Path.Combine(spool, next), token, durable: false) == FetchOutcome.NotArchived)
                {
                    Interlocked.Exchange(ref stop, 1);
                }
            }
            catch (RecoveryException)
            {
                // Damage past the requested segment is not this fetch's failure (recovery may stop before it):
                // it is not spooled, and the plain fetch PostgreSQL makes for it later reports it.
                Interlocked.Exchange(ref stop, 1);
            }
        });
        var outcome = await fetched;
        LogPrefetched(logger, walFile, ahead.Count);
        return outcome;
    }

    /// <summary>Removes what recovery did not ask for (segments past the target); run once the server is promoted.</summary>
    public static void RemoveSpool(string dataDirectory)
    {
        var spool = Path.Combine(dataDirectory, "pg_wal", SpoolFolder);
        if (Directory.Exists(spool))
        {
            Directory.Delete(spool, recursive: true);
        }
    }

    [LoggerMessage(EventId = 6310, Level = LogLevel.Debug, Message = "Fetched {WalFile} and up to {Ahead} segments after it into the prefetch spool")]
    private static partial void LogPrefetched(ILogger logger, string walFile, int ahead);
}
