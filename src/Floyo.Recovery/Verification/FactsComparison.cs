using Floyo.Recovery.Postgres;

namespace Floyo.Recovery.Verification;

/// <summary>
/// Compares a restored database with what its backup recorded. Row counts and object counts must be
/// equal (both come from pg_dump's own snapshot); sequences may only be ahead, because pg_dump reads
/// them a moment after the snapshot is taken and sequences are not transactional.
/// </summary>
public static class FactsComparison
{
    /// <param name="countRows">False compares objects and sequences only (the actual facts were read without row counts).</param>
    public static IReadOnlyList<string> Compare(DatabaseFacts expected, DatabaseFacts actual, bool countRows = true)
    {
        var problems = new List<string>();
        var restoredRows = actual.Tables.ToDictionary(t => t.QualifiedName, t => t.Rows, StringComparer.Ordinal);
        foreach (var table in countRows ? expected.Tables : [])
        {
            if (!restoredRows.TryGetValue(table.QualifiedName, out var rows))
            {
                problems.Add($"{table.Kind} {table.QualifiedName} is missing");
            }
            else if (rows != table.Rows)
            {
                problems.Add($"{table.Kind} {table.QualifiedName} has {rows} rows, expected {table.Rows}");
            }
        }
        foreach (var (kind, count) in expected.ObjectCounts)
        {
            var restored = actual.ObjectCounts.GetValueOrDefault(kind);
            if (restored != count)
            {
                problems.Add($"{restored} {kind}, expected {count}");
            }
        }
        var restoredSequences = actual.Sequences.ToDictionary(s => $"{s.Schema}.{s.Name}", s => s.LastValue, StringComparer.Ordinal);
        foreach (var sequence in expected.Sequences)
        {
            var name = $"{sequence.Schema}.{sequence.Name}";
            if (!restoredSequences.TryGetValue(name, out var value))
            {
                problems.Add($"sequence {name} is missing");
            }
            else if (sequence.LastValue is { } recorded && (value is null || value < recorded))
            {
                problems.Add($"sequence {name} is at {value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unset"}, expected at least {recorded}");
            }
        }
        return problems;
    }
}
