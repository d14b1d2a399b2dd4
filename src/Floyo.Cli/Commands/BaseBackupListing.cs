using Floyo.Recovery.Wal;

namespace Floyo.Cli.Commands;

/// <summary>
/// The base backups and incremental records under <c>list</c>'s logical dumps (types <c>base</c> and
/// <c>incremental</c>, with their WAL ranges), then the recovery point.
/// </summary>
internal static class BaseBackupListing
{
    public static void PrintRecoveryPoint(RecoveryPoint point)
    {
        Console.WriteLine();
        Console.WriteLine(point.Time is { } time ? $"recovery point: {PitrPlanner.Show(time)} ({point.Source})" : "recovery point: none (no verified backup, no base backup)");
        foreach (var copy in point.Copies)
        {
            var which = Floyo.Recovery.Storage.BackupStores.Ordinal(copy.Copy);
            Console.WriteLine(copy.Store is null
                ? $"WAL in the {which} copy: {copy.State}"
                : $"WAL in the {which} copy ({copy.Store}): {copy.State}, newest segment {copy.NewestSegment ?? "none"}"
                    + (copy.NewestArchivedAt is { } at ? $" (archived {PitrPlanner.Show(at)})" : "")
                    + (copy.BehindSeconds is double behind && behind > 0 ? $", {TimeSpan.FromSeconds(behind):c} behind the primary" : ""));
        }
        foreach (var finding in point.Findings)
        {
            Console.WriteLine($"finding (RPO breach): {finding}");
        }
    }

    public static void Print(IReadOnlyList<BaseBackupEntry> bases, IReadOnlyList<IncrementalBackupRecord> incrementals)
    {
        if (bases.Count == 0 && incrementals.Count == 0)
        {
            return;
        }
        Console.WriteLine();
        Console.WriteLine($"{"NAME",-48} {"TYPE",-5} {"TIMESTAMP",-20} {"SIZE",10}  WAL (timeline: start - stop)");
        foreach (var entry in bases)
        {
            var meta = entry.Metadata;
            Console.WriteLine($"{meta.Name,-48} {BaseBackupMetadata.Type,-5} {meta.StopTime.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {Output.Size(meta.SizeBytes),10}  {meta.Timeline}: {meta.StartLsn} - {meta.StopLsn}");
        }
        foreach (var r in incrementals)
        {
            Console.WriteLine($"{r.Name,-48} {IncrementalBackupRecord.Type} {r.StopTime.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {"-",10}  {r.Timeline}: {r.StartLsn} - {r.StopLsn}, {PitrPlanner.Show(r.StartTime)} - {PitrPlanner.Show(r.StopTime)} (from {r.BaseBackup})");
        }
    }
}
