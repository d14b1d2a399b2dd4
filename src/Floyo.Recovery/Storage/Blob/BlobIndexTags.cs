using System.Text;
using System.Text.RegularExpressions;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>
/// Index tags for every object we write, derived from its name (the names already carry the database,
/// type and date), so the service can filter backups by tag without anyone downloading metadata files.
/// </summary>
public static partial class BlobIndexTags
{
    public static Dictionary<string, string> For(string name)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var leaf = name[(name.LastIndexOf('/') + 1)..];
        var backup = BackupPattern().Match(leaf);
        if (backup.Success)
        {
            tags["database"] = Clean(backup.Groups["db"].Value);
            tags["type"] = backup.Groups["type"].Value;
            tags["date"] = backup.Groups["date"].Value;
        }
        tags["kind"] = name switch
        {
            _ when name.StartsWith("verifications/", StringComparison.Ordinal) => "verification",
            _ when name.StartsWith("copies/", StringComparison.Ordinal) => "copy-record",
            _ when name.StartsWith("files/manifests/", StringComparison.Ordinal) => "files-manifest",
            _ when name.StartsWith("files/", StringComparison.Ordinal) => "files-object",
            _ when name.StartsWith("config/", StringComparison.Ordinal) => "config",
            _ when backup.Success && leaf.EndsWith(".meta.json", StringComparison.Ordinal) => "backup-meta",
            _ when backup.Success => "backup-data",
            _ => "other",
        };
        if (!tags.ContainsKey("date") && DatePattern().Match(name) is { Success: true } date)
        {
            tags["date"] = date.Value;
        }
        return tags;
    }

    /// <summary>Tag values allow letters, digits, space and <c>+ - . / : = _</c>; anything else becomes '_'.</summary>
    private static string Clean(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is ' ' or '+' or '-' or '.' or '/' or ':' or '=' or '_' ? c : '_');
        }
        var clean = builder.ToString();
        return clean.Length > 256 ? clean[..256] : clean;
    }

    [GeneratedRegex(@"^(?<db>.+)_(?<type>full|incremental)_(?<date>\d{8})_\d{6}\.dump(\.zst)?(\.meta\.json)?$")]
    private static partial Regex BackupPattern();

    [GeneratedRegex(@"(?<!\d)\d{8}(?!\d)")]
    private static partial Regex DatePattern();
}
