using System.Text.Json;
using System.Text.Json.Serialization;
using Floyo.Recovery.Postgres;

namespace Floyo.Recovery.Backups;

/// <summary>The <c>.meta.json</c> sidecar, written once, after the backup itself is committed.</summary>
public sealed record BackupMetadata(
    int FormatVersion,
    string Name,
    BackupType Type,
    DateTimeOffset Timestamp,
    string Database,
    string Server,
    long SizeBytes,
    long DumpBytes,
    string Compression,
    string Sha256,
    string ServerVersion,
    string PgDumpVersion,
    double DurationSeconds,
    DateTimeOffset RetainUntil,
    DatabaseFacts Facts,
    IReadOnlyList<string> Anomalies)
{
    public const int CurrentFormat = 1;

    public bool IsCompressed => Compression != "none";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json.Options);

    public static BackupMetadata FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<BackupMetadata>(json, Json.Options) ?? throw new JsonException("empty metadata");
}

/// <summary>One JSON shape for every file and every <c>--json</c> output.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
