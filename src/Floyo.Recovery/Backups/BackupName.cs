using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Floyo.Recovery.Backups;

/// <summary>
/// The one backup-type enum: in workflow inputs, in metadata and in names. It is stored as the lower-case word
/// ("full", "incremental") existing <c>.meta.json</c> files carry, and read once, there: anything else is not a backup.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<BackupType>))]
public enum BackupType
{
    [JsonStringEnumMemberName("full")]
    Full,
    [JsonStringEnumMemberName("incremental")]
    Incremental,
}

/// <summary>
/// <c>&lt;database&gt;_full_&lt;YYYYMMDD&gt;_&lt;HHMMSS&gt;.&lt;ext&gt;</c> (UTC), with a
/// <c>.meta.json</c> sidecar. The database part is a file-safe form of the name; the metadata keeps the real one.
/// </summary>
public static partial class BackupName
{
    public const string MetadataSuffix = ".meta.json";

    public static string For(string database, BackupType type, DateTimeOffset timestamp, bool compressed) =>
        $"{Slug(database)}_{TypeWord(type)}_{timestamp.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}{Extension(compressed)}";

    public static string Extension(bool compressed) => compressed ? ".dump.zst" : ".dump";

    public static string MetadataOf(string backupName) => backupName + MetadataSuffix;

    public static string TypeWord(BackupType type) => type switch
    {
        BackupType.Full => "full",
        BackupType.Incremental => "incremental",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a backup type"),
    };

    /// <summary>Keeps letters (any script), digits, '_', '-' and '.'; anything else becomes '-'.</summary>
    public static string Slug(string database)
    {
        var builder = new StringBuilder(database.Length);
        foreach (var rune in database.EnumerateRunes())
        {
            builder.Append(Rune.IsLetterOrDigit(rune) || rune.Value is '_' or '-' ? rune.ToString() : "-");
        }
        var slug = builder.ToString().Trim('-');
        return slug.Length == 0 ? "db" : slug;
    }

    public static bool LooksLikeBackup(string name) => Pattern().IsMatch(name);

    /// <summary>The type and UTC time a backup's file name carries; the time is MinValue when the digits are no date.</summary>
    public static (string Type, DateTimeOffset Timestamp) Parse(string name)
    {
        var match = Pattern().Match(name);
        if (!match.Success)
        {
            throw new UsageException($"'{name}' is not a backup name");
        }
        var at = DateTime.TryParseExact(match.Groups[2].Value, "yyyyMMdd_HHmmss", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed) ? new DateTimeOffset(parsed, TimeSpan.Zero) : DateTimeOffset.MinValue;
        return (match.Groups[1].Value, at);
    }

    [GeneratedRegex(@"^[^/]+_(full|incremental)_(\d{8}_\d{6})\.dump(\.zst)?$")]
    private static partial Regex Pattern();
}
