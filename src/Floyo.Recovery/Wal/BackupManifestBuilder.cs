using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Floyo.Recovery.Wal;

/// <summary>
/// A backup_manifest as PostgreSQL 15's server writes it (version 1; one line per file with its size, modification
/// time and CRC32C; the WAL range; a SHA-256 of everything before the Manifest-Checksum line), so pg_verifybackup
/// checks a direct base backup exactly as it checks pg_basebackup's. The layout follows a manifest written by
/// pg_basebackup byte for byte: restore, verify and copy need no change.
/// </summary>
public sealed class BackupManifestBuilder
{
    private readonly StringBuilder _files = new();
    private int _count;

    public int Count => _count;

    public void AddFile(string path, long size, DateTimeOffset lastModified, uint crc32c)
    {
        _files.Append(_count == 0 ? "\n" : ",\n")
            .Append("{ \"Path\": ").Append(JsonString(path))
            .Append(", \"Size\": ").Append(size.ToString(CultureInfo.InvariantCulture))
            .Append(", \"Last-Modified\": \"").Append(lastModified.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(" GMT\"")
            .Append(", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"").Append(ChecksumHex(crc32c)).Append("\" }");
        _count++;
    }

    /// <summary>The manifest's bytes: the files, the WAL range from <paramref name="startLsn"/> to <paramref name="endLsn"/> on <paramref name="timeline"/>, then its own SHA-256.</summary>
    public byte[] Build(uint timeline, string startLsn, string endLsn)
    {
        var body = new StringBuilder()
            .Append("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [")
            .Append(_files)
            .Append("\n],\n\"WAL-Ranges\": [\n")
            .Append(CultureInfo.InvariantCulture, $"{{ \"Timeline\": {timeline}, \"Start-LSN\": \"{startLsn}\", \"End-LSN\": \"{endLsn}\" }}")
            .Append("\n],\n")
            .ToString();
        var bytes = Encoding.UTF8.GetBytes(body);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return [.. bytes, .. Encoding.UTF8.GetBytes($"\"Manifest-Checksum\": \"{checksum}\"}}\n")];
    }

    /// <summary>PostgreSQL writes the finished CRC's bytes as they lie in memory (little-endian), in hex.</summary>
    internal static string ChecksumHex(uint crc32c)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, crc32c);
        return Convert.ToHexStringLower(bytes);
    }

    private static string JsonString(string value)
    {
        var json = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    json.Append("\\\"");
                    break;
                case '\\':
                    json.Append("\\\\");
                    break;
                case < ' ':
                    json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    json.Append(c);
                    break;
            }
        }
        return json.Append('"').ToString();
    }
}

/// <summary>CRC-32C (Castagnoli), as PostgreSQL's manifests use it, with the processor's crc32 instruction (BitOperations falls back to a table).</summary>
public static class Crc32C
{
    public const uint Initial = 0xFFFFFFFF;

    /// <summary>Adds <paramref name="data"/> to a running CRC started at <see cref="Initial"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
        {
            crc = BitOperations.Crc32C(crc, word);
        }
        foreach (var b in data[(words.Length * sizeof(ulong))..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }
        return crc;
    }

    /// <summary>The finished CRC (the running value inverted).</summary>
    public static uint Finish(uint crc) => ~crc;
}
