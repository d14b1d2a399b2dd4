using Floyo.Recovery.Wal;

namespace Floyo.Cli.Commands;

/// <summary><c>cleanup</c>'s lines for base backups, incremental records and the WAL archive.</summary>
internal static class WalRetentionListing
{
    public static void Print(WalRetentionPlan plan, string verb)
    {
        foreach (var name in plan.KeptBases)
        {
            Console.WriteLine($"{"keep",-12} {name}  (base backup within BACKUP_RETENTION_DAYS, or the newest)");
        }
        foreach (var name in plan.DeletedBases)
        {
            Console.WriteLine($"{verb,-12} {name}  (base backup past BACKUP_RETENTION_DAYS, not the newest)");
        }
        foreach (var name in plan.DeletedIncrementals)
        {
            Console.WriteLine($"{verb,-12} {name}  (incremental record past BACKUP_INCREMENTAL_RETENTION_DAYS or of a deleted base backup)");
        }
        if (plan.DeletedWal.Count > 0)
        {
            Console.WriteLine($"{verb,-12} {plan.DeletedWal.Count} WAL files {plan.DeletedWal[0]} to {plan.DeletedWal[^1]}  (before {plan.OldestNeededSegment}, the oldest kept base backup's start)");
        }
    }
}
