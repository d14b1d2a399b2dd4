using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Wal;

/// <summary>
/// The sidecar of one archived WAL file, committed after its data object: a file is archived only when
/// both exist. <see cref="Sha256"/> is of the file as PostgreSQL wrote it, <see cref="StoredSha256"/> of
/// the bytes in the store (compressed), so a fetch proves both the transfer and the decompression.
/// </summary>
public sealed record WalArchiveRecord(
    int FormatVersion,
    string Name,
    long Size,
    string Sha256,
    long StoredBytes,
    string StoredSha256,
    string Compression,
    DateTimeOffset ArchivedAt)
{
    public const int CurrentFormat = 1;

    public const string Folder = "wal/";

    public static string DataName(string walFile) => $"{Folder}{walFile}.zst";

    public static string RecordName(string walFile) => $"{Folder}{walFile}.json";

    /// <summary>The WAL file a record object in the store is for, or null for any other object.</summary>
    public static string? WalFileOf(string objectName) =>
        objectName.StartsWith(Folder, StringComparison.Ordinal) && objectName.EndsWith(".json", StringComparison.Ordinal)
            ? objectName[Folder.Length..^".json".Length]
            : null;

    public byte[] ToJson() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(this, Json.Options);
}
