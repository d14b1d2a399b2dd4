using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Floyo.Recovery.AppData;

/// <summary>One uploaded file as it was at snapshot time, and the stored object that holds its bytes.</summary>
public sealed record FileEntry(string Name, string Object, long Size, string Sha256, string? ContentType, DateTimeOffset LastModified, string ETag);

/// <summary>
/// A snapshot of the uploads container: written after every object it names is committed, so a
/// manifest never claims a file the store does not hold.
/// </summary>
public sealed record FilesManifest(int FormatVersion, DateTimeOffset Timestamp, string Source, int Files, long Bytes, int CopiedFiles, long CopiedBytes, IReadOnlyList<FileEntry> Entries)
{
    public const int CurrentFormat = 1;
    public const string ManifestPrefix = "files/manifests/";
    public const string ObjectPrefix = "files/objects/";

    public static string NameFor(DateTimeOffset at) =>
        $"{ManifestPrefix}{at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.json";

    /// <summary>
    /// Objects are versioned by source name and ETag: an unchanged file maps to the object already
    /// stored (nothing copied), a changed one to a new object, and earlier versions stay for older snapshots.
    /// </summary>
    public static string ObjectFor(string sourceName, string etag)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{sourceName}\n{etag.Trim('"')}")));
        return $"{ObjectPrefix}{hash[..2]}/{hash}";
    }

    public static DateTimeOffset? TimestampOf(string manifestName)
    {
        if (!manifestName.StartsWith(ManifestPrefix, StringComparison.Ordinal) || !manifestName.EndsWith(".json", StringComparison.Ordinal))
        {
            return null;
        }
        var stamp = manifestName[ManifestPrefix.Length..^".json".Length];
        return DateTimeOffset.TryParseExact(stamp, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;
    }
}
