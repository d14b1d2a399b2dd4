using System.Globalization;

namespace Floyo.Recovery.Backups;

/// <summary>One catalog row as scripts and the HTTP API see it (<c>floyo-dr list --json</c>, <c>GET /api/backups</c>).</summary>
public sealed record BackupSummary(
    string Name,
    string Type,
    string Timestamp,
    string Database,
    long SizeBytes,
    string Compression,
    string Sha256,
    bool Verified,
    string? VerifiedAt,
    bool Valid,
    IReadOnlyList<string> Problems,
    bool Suspect,
    IReadOnlyList<string> Anomalies,
    string? AcceptedBy,
    bool LegalHold)
{
    /// <summary>Which copies exist and are verified; filled in where the copies were looked at.</summary>
    public Storage.Secondary.CopyStatus? Copies { get; init; }

    /// <summary>Records about this backup that were damaged or forged and ignored (absent when there are none).</summary>
    public IReadOnlyList<string>? Findings { get; init; }

    public static BackupSummary Of(BackupEntry e) => new(
        e.Name, BackupName.TypeWord(e.Metadata.Type), Iso(e.Metadata.Timestamp), e.Metadata.Database, e.Metadata.SizeBytes, e.Metadata.Compression,
        e.Metadata.Sha256, e.Verified, e.LastVerification is { } v ? Iso(v.Timestamp) : null, e.IsValid, e.Problems,
        e.IsSuspect, e.Metadata.Anomalies, e.Acceptance?.AcceptedBy, e.LegalHold)
    {
        Findings = e.Findings.Count > 0 ? [.. e.Findings.Select(f => f.ToString())] : null,
    };

    /// <summary>
    /// A row for a data object whose metadata was not trusted: what its file name says, marked invalid, so
    /// the damage is seen where the backup would have been. Nothing here is read from the untrusted file.
    /// </summary>
    public static BackupSummary Untrusted(string name, long size, IReadOnlyList<CatalogFinding> findings)
    {
        var (type, at) = BackupName.Parse(name);
        var problems = findings.Select(f => f.ToString()).ToList();
        return new(name, type, Iso(at), "", size, name.EndsWith(".zst", StringComparison.Ordinal) ? "zstd" : "none", "", false, null, false,
            problems, false, [], null, false) { Findings = problems };
    }

    /// <summary>ISO-8601 in UTC with a Z, to the second, as the plan's file names have it.</summary>
    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
