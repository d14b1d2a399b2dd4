using System.Globalization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Anomalies;

/// <summary>
/// Compares a new backup with the newest good backup of the same database (verified if any is) and
/// names sharp drops: a table losing most of its rows or vanishing, the dump shrinking by half, or the
/// data suddenly refusing to compress (what encryption in place looks like). A truncated or encrypted
/// database must not silently become the newest "good" backup.
/// </summary>
public sealed class AnomalyDetector(IOptions<AnomalyOptions> options)
{
    private const long MinBytesForCompressionCheck = 1 << 20;

    public IReadOnlyList<string> Detect(string database, long dumpBytes, long storedBytes, DatabaseFacts facts, IReadOnlyList<BackupEntry> catalog)
    {
        var good = catalog.Where(e => e.Metadata.Database == database && e.IsValid && !e.IsSuspect).ToList();
        var baseline = good.FirstOrDefault(e => e.Verified) ?? good.FirstOrDefault();
        if (baseline is null)
        {
            return [];
        }
        var o = options.Value;
        var before = baseline.Metadata;
        var findings = new List<string>();
        var now = facts.Tables.ToDictionary(t => t.QualifiedName, t => t.Rows, StringComparer.Ordinal);
        foreach (var table in before.Facts.Tables.Where(t => t.Rows >= o.MinRows))
        {
            if (!now.TryGetValue(table.QualifiedName, out var rows))
            {
                findings.Add($"{table.Kind} {table.QualifiedName} ({table.Rows} rows in {before.Name}) is gone");
            }
            else if (rows < table.Rows * o.RowDropRatio)
            {
                findings.Add($"{table.Kind} {table.QualifiedName} fell from {table.Rows} to {rows} rows since {before.Name}");
            }
        }
        if (dumpBytes < before.DumpBytes * o.SizeDropRatio)
        {
            findings.Add($"the dump shrank from {before.DumpBytes} to {dumpBytes} bytes since {before.Name}");
        }
        if (before.IsCompressed && dumpBytes >= MinBytesForCompressionCheck && before.DumpBytes >= MinBytesForCompressionCheck)
        {
            var was = (double)before.SizeBytes / before.DumpBytes;
            var isNow = (double)storedBytes / dumpBytes;
            // Encrypted bytes, even hex- or base64-encoded in a dump, stay near or above half their size.
            if (isNow > 0.45 && isNow > was * 2)
            {
                findings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"the data no longer compresses ({isNow:P0} of its size, was {was:P0} in {before.Name}): it may have been encrypted"));
            }
        }
        return findings;
    }
}
