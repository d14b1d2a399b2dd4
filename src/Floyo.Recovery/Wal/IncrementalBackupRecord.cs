using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Wal;

/// <summary>
/// The record of one incremental backup (<c>base/incremental_&lt;time&gt;.json</c>): the WAL from
/// <see cref="StartLsn"/> to <see cref="StopLsn"/> (segments <see cref="FirstSegment"/> to
/// <see cref="LastSegment"/>) was archived and proven continuous from <see cref="BaseBackup"/>, so any time in
/// <see cref="StartTime"/> to <see cref="StopTime"/> is recoverable. The data itself is the archived WAL.
/// </summary>
public sealed record IncrementalBackupRecord(
    int FormatVersion,
    string Name,
    string BaseBackup,
    uint Timeline,
    string StartLsn,
    string StopLsn,
    string FirstSegment,
    string LastSegment,
    int Segments,
    DateTimeOffset StartTime,
    DateTimeOffset StopTime,
    string Server,
    double DurationSeconds,
    DateTimeOffset RetainUntil)
{
    public const int CurrentFormat = 1;

    public const string Prefix = BaseBackupMetadata.Folder + "incremental_";

    public const string Type = "incremental";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json.Options);

    public static bool IsRecordName(string objectName) =>
        objectName.StartsWith(Prefix, StringComparison.Ordinal) && objectName.EndsWith(".json", StringComparison.Ordinal);

    /// <summary>Every readable incremental record in the store, newest first (an unreadable one is skipped: it proves nothing).</summary>
    public static async Task<IReadOnlyList<IncrementalBackupRecord>> ListAsync(IBackupStore store, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync(BaseBackupMetadata.Folder, ct))
        {
            if (IsRecordName(item.Name))
            {
                names.Add(item.Name);
            }
        }
        var records = new List<IncrementalBackupRecord>();
        foreach (var name in names)
        {
            if ((await StoredJson.ReadAsync<IncrementalBackupRecord>(store, name, ct)).Value is { } record && record.Name == name)
            {
                records.Add(record);
            }
        }
        return [.. records.OrderByDescending(r => r.StopTime)];
    }
}
