using System.Globalization;

namespace Floyo.Recovery.Verification;

/// <summary>
/// The outcome of one verification, stored beside (never inside) the backup it proves, so neither the
/// backup nor its metadata is ever rewritten.
/// </summary>
/// <param name="CreatedRoles">Roles the backup needed that were missing on the server: created for the scratch copy.</param>
/// <param name="DroppedRoles">Of those, the ones dropped again with it (all of them, unless something else came to depend on one).</param>
public sealed record VerificationRecord(
    string Backup,
    DateTimeOffset Timestamp,
    bool Passed,
    bool ChecksumMatched,
    string Server,
    double DurationSeconds,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string>? CreatedRoles = null,
    IReadOnlyList<string>? DroppedRoles = null)
{
    public const string Prefix = "verifications/";

    public static string NameFor(string backup, DateTimeOffset at) =>
        $"{Prefix}{backup}/{at.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}.json";

    /// <summary>The backup a record name belongs to: <c>verifications/&lt;backup&gt;/&lt;time&gt;.json</c>.</summary>
    public static string? BackupOf(string recordName)
    {
        if (!recordName.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = recordName[Prefix.Length..];
        var slash = rest.LastIndexOf('/');
        return slash > 0 ? rest[..slash] : null;
    }
}
