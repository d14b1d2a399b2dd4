using Floyo.Recovery.Wal;

namespace Floyo.Cli.Commands;

/// <summary>The base backups under <c>list</c>'s logical dumps: type <c>base</c>, with the WAL range each one starts from.</summary>
internal static class BaseBackupListing
{
    public static void Print(IReadOnlyList<BaseBackupEntry> bases)
    {
        if (bases.Count == 0)
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
    }
}
