using System.Text.Json;
using System.Text.Json.Serialization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

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

    /// <summary>Written as <see cref="Json.Options"/> writes it (a test holds the two equal), from source-generated metadata.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, WalArchiveRecordJson.Default.WalArchiveRecord);

    public static Task<StoredRecord<WalArchiveRecord>> ReadAsync(IBackupStore store, string walFile, CancellationToken ct) =>
        StoredJson.ReadAsync(store, RecordName(walFile), WalArchiveRecordJson.Default.WalArchiveRecord, ct);
}

/// <summary>
/// <see cref="Json.Options"/> for <see cref="WalArchiveRecord"/>, generated at build time: wal push and fetch read and
/// write one record per process, and reflection-based serialization cost them about 40 ms of CPU (JIT) each time.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WalArchiveRecord))]
internal sealed partial class WalArchiveRecordJson : JsonSerializerContext;
