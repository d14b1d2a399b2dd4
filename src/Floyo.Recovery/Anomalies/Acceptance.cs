namespace Floyo.Recovery.Anomalies;

/// <summary>
/// A person's decision that a flagged backup is good after all (say, a table was purged on purpose).
/// Stored beside the backup as <c>acceptances/&lt;backup&gt;.json</c>; the backup is never rewritten.
/// </summary>
public sealed record Acceptance(string Backup, string AcceptedBy, DateTimeOffset At, string Reason)
{
    public const string Prefix = "acceptances/";

    public static string NameFor(string backup) => $"{Prefix}{backup}.json";

    public static string? BackupOf(string name) =>
        name.StartsWith(Prefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal)
            ? name[Prefix.Length..^".json".Length]
            : null;
}
