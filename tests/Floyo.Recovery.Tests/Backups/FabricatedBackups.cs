using System.Security.Cryptography;
using System.Text.Json;
using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;

namespace Floyo.Recovery.Tests.Backups;

/// <summary>
/// Backups and records written straight into a store, without PostgreSQL: for tests of what the catalogue
/// and retention make of the records (damaged, forged, missing), not of what pg_dump produced.
/// </summary>
internal static class FabricatedBackups
{
    public static BackupMetadata Metadata(string database, DateTimeOffset at, byte[] data, BackupType type = BackupType.Full, IReadOnlyList<string>? anomalies = null)
    {
        var name = BackupName.For(database, type, at, compressed: false);
        var facts = new DatabaseFacts("15.0", 150000, new DatabaseProperties("owner", "UTF8", "C", "C"), [], new Dictionary<string, long>(), [], []);
        return new BackupMetadata(BackupMetadata.CurrentFormat, name, type, at, database, "127.0.0.1:5432", data.Length, data.Length, "none",
            Convert.ToHexStringLower(SHA256.HashData(data)), "15.0", "pg_dump 15.0", 1, at.AddDays(30), facts, anomalies ?? []);
    }

    /// <summary>Data object, then metadata, as a backup run commits them.</summary>
    public static async Task<BackupMetadata> WriteAsync(IBackupStore store, string database, DateTimeOffset at, BackupType type = BackupType.Full, IReadOnlyList<string>? anomalies = null)
    {
        var data = System.Text.Encoding.UTF8.GetBytes($"PGDMP fabricated {database} {at:O}");
        var metadata = Metadata(database, at, data, type, anomalies);
        await store.WriteAllAsync(metadata.Name, data, ObjectRetention.None, default);
        await store.WriteAllAsync(BackupName.MetadataOf(metadata.Name), metadata.ToJson(), ObjectRetention.None, default);
        return metadata;
    }

    public static async Task<VerificationRecord> VerifyAsync(IBackupStore store, string backup, DateTimeOffset at, bool passed)
    {
        var record = new VerificationRecord(backup, at, passed, true, "127.0.0.1:5432", 1, passed ? [] : ["rows differ"]);
        await store.WriteAllAsync(VerificationRecord.NameFor(backup, at), JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, default);
        return record;
    }

    public static Task AcceptAsync(IBackupStore store, string backup, DateTimeOffset at) =>
        store.WriteAllAsync(Acceptance.NameFor(backup), JsonSerializer.SerializeToUtf8Bytes(new Acceptance(backup, "alice", at, "purged on purpose"), Json.Options), ObjectRetention.None, default);

    /// <summary>Writes a file as someone with access to the folder would: around the store, not through it.</summary>
    public static void Plant(string root, string name, string content)
    {
        var path = Path.Combine(root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>A catalogue entry without any store: for the pure retention planner.</summary>
    public static BackupEntry Entry(string database, DateTimeOffset at, bool? verified = null, BackupType type = BackupType.Full, IReadOnlyList<string>? anomalies = null, string? sha256 = null)
    {
        var data = System.Text.Encoding.UTF8.GetBytes($"PGDMP {database} {at:O}");
        var metadata = Metadata(database, at, data, type, anomalies);
        metadata = sha256 is null ? metadata : metadata with { Sha256 = sha256 };
        var last = verified is { } passed ? new VerificationRecord(metadata.Name, at.AddHours(1), passed, true, "s", 1, []) : null;
        return new BackupEntry(metadata, new StoredObject(metadata.Name, data.Length, at, false, null),
            new StoredObject(BackupName.MetadataOf(metadata.Name), 100, at, false, null), last, [], null);
    }
}
