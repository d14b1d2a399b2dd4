using System.Diagnostics;

namespace Floyo.Recovery.Wal;

/// <summary>
/// Waits until the server has archived a WAL segment, by the same test PostgreSQL's pg_backup_stop makes
/// (XLogArchiveIsBusy: a .done status file, or no .ready one and the segment gone) on the data directory that a
/// direct base backup reads anyway. pg_backup_stop's own wait looks once a second; polling here ends within
/// milliseconds of the archiver, and overlaps the end of compression. The backup is only committed after it.
/// </summary>
public static class DataDirectoryArchiveWait
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public static bool IsArchived(string dataDir, string segment)
    {
        var status = Path.Combine(dataDir, "pg_wal", "archive_status");
        if (File.Exists(Path.Combine(status, segment + ".done")))
        {
            return true;
        }
        if (File.Exists(Path.Combine(status, segment + ".ready")))
        {
            return false;
        }
        // The archiver may have just renamed .ready to .done; a segment already removed was archived before.
        return File.Exists(Path.Combine(status, segment + ".done")) || !File.Exists(Path.Combine(dataDir, "pg_wal", segment));
    }

    public static async Task WaitAsync(string dataDir, string segment, TimeSpan limit, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (!IsArchived(dataDir, segment))
        {
            if (waited.Elapsed > limit)
            {
                throw new UnavailableException($"the base backup's last WAL segment {segment} was not archived within {limit.TotalSeconds:F0} s (INCREMENTAL_ARCHIVE_WAIT_SECONDS): check archive_command and pg_stat_archiver; the backup was not kept");
            }
            await Task.Delay(Poll, ct);
        }
    }
}
