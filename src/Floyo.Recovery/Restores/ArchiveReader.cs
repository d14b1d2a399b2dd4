using System.Text;

namespace Floyo.Recovery.Restores;

/// <summary>One entry of a custom-format archive's table of contents (what pg_restore -l lists).</summary>
/// <param name="Owner">The role pg_restore makes the object's owner (ALTER ... OWNER TO), or null.</param>
public sealed record ArchiveEntry(int DumpId, bool HasData, string Description, string Tag, string? Namespace, ArchiveSection Section, string? CopyStatement, bool DataOffsetMissing, string? Owner = null)
{
    public bool IsTableData => Description == "TABLE DATA";

    public string DisplayName => Namespace is { Length: > 0 } ns ? $"{ns}.{Tag}" : Tag;
}

public enum ArchiveSection
{
    None = 1,
    PreData = 2,
    Data = 3,
    PostData = 4,
}

/// <summary>
/// The header and table of contents of a pg_dump custom-format archive, read from the front of a stream
/// exactly as pg_restore reads them from a pipe. <see cref="Bytes"/> is that prefix verbatim: pg_restore
/// accepts it as an archive for every entry that carries no data (schema, indexes, constraints, ACLs).
/// </summary>
public sealed record ArchiveToc(IReadOnlyList<ArchiveEntry> Entries, byte[] Bytes)
{
    /// <summary>Why the data cannot be streamed into COPY sessions directly; null when it can.</summary>
    public string? Unstreamable { get; init; }
}

/// <summary>
/// Sequential reader of pg_dump's custom archive format (src/bin/pg_dump/pg_backup_archiver.c and
/// pg_backup_custom.c): integers are a sign byte and intSize little-endian bytes, strings an integer length
/// (-1 for null) and the bytes. Versions 1.12 to 1.16 (pg_dump up to PostgreSQL 17) are understood; anything else
/// is reported as unstreamable so the caller falls back to pg_restore reading the whole file.
/// </summary>
public sealed class ArchiveReader(Stream source)
{
    private const byte DataBlock = 1;
    private const int MaxString = 256 << 20;
    private readonly byte[] _buffer = new byte[1 << 18];
    private int _position;
    private int _length;
    private MemoryStream? _recording;
    private int _intSize = 4;

    /// <summary>Bytes consumed so far (of the decompressed archive).</summary>
    public long Consumed { get; private set; }

    public async Task<ArchiveToc> ReadTocAsync(CancellationToken ct)
    {
        _recording = new MemoryStream();
        var magic = new byte[5];
        await ReadExactlyAsync(magic, ct);
        if (!magic.AsSpan().SequenceEqual("PGDMP"u8))
        {
            return Unstreamable("not a pg_dump custom-format archive");
        }
        int major = await ByteAsync(ct), minor = await ByteAsync(ct);
        await ByteAsync(ct); // revision
        if (major != 1 || minor is < 12 or > 16)
        {
            return Unstreamable($"archive version {major}.{minor} is not one this reader knows");
        }
        _intSize = await ByteAsync(ct);
        int offsetSize = await ByteAsync(ct), format = await ByteAsync(ct);
        if (_intSize is < 1 or > 8 || offsetSize is < 1 or > 8 || format != 1)
        {
            return Unstreamable("archive header is not a plain custom-format header");
        }
        // 1.15 replaced the compression level (an integer) with an algorithm (a byte); 0 means none in both.
        var compression = minor >= 15 ? await ByteAsync(ct) : await IntAsync(ct);
        for (var i = 0; i < 7; i++)
        {
            await IntAsync(ct); // creation time
        }
        await StringAsync(ct); // database name
        await StringAsync(ct); // server version
        await StringAsync(ct); // pg_dump version
        var count = await IntAsync(ct);
        if (count is < 0 or > 100_000_000)
        {
            throw new InvalidDataException($"archive claims {count} entries");
        }
        var entries = new List<ArchiveEntry>((int)Math.Min(count, 100_000));
        var encoding = "";
        for (var i = 0; i < count; i++)
        {
            var dumpId = (int)await IntAsync(ct);
            var hadDumper = await IntAsync(ct) != 0;
            await StringAsync(ct); // table oid
            await StringAsync(ct); // oid
            var tag = await StringAsync(ct) ?? "";
            var desc = await StringAsync(ct) ?? "";
            var section = (ArchiveSection)await IntAsync(ct);
            var defn = await StringAsync(ct);
            await StringAsync(ct); // drop statement
            var copy = await StringAsync(ct);
            var ns = await StringAsync(ct);
            await StringAsync(ct); // tablespace
            if (minor >= 14)
            {
                await StringAsync(ct); // table access method
            }
            if (minor >= 16)
            {
                await IntAsync(ct); // relkind
            }
            var owner = await StringAsync(ct);
            await StringAsync(ct); // "with oids", always false since PostgreSQL 12
            while (await StringAsync(ct) is not null)
            {
                // dependencies: pg_restore works them out itself from the same file
            }
            var offsetFlag = await ByteAsync(ct);
            for (var b = 0; b < offsetSize; b++)
            {
                await ByteAsync(ct);
            }
            if (desc == "ENCODING")
            {
                encoding = defn ?? "";
            }
            // Flag 3 is K_OFFSET_NO_DATA: pg_dump wrote no data block for this entry.
            entries.Add(new ArchiveEntry(dumpId, hadDumper, desc, tag, ns, section, copy, offsetFlag == 3, owner is { Length: > 0 } ? owner : null));
        }
        var toc = new ArchiveToc(entries, _recording.ToArray());
        _recording = null;
        return toc with { Unstreamable = WhyUnstreamable(compression, encoding, entries) };
    }

    private ArchiveToc Unstreamable(string why)
    {
        _recording = null;
        return new ArchiveToc([], []) { Unstreamable = why };
    }

    private static string? WhyUnstreamable(long compression, string encoding, List<ArchiveEntry> entries)
    {
        if (compression != 0)
        {
            return "the archive's data is compressed by pg_dump";
        }
        if (!encoding.Contains("'UTF8'", StringComparison.Ordinal))
        {
            return "the archive is not UTF8-encoded";
        }
        var other = entries.FirstOrDefault(e => e.HasData && (!e.IsTableData || string.IsNullOrEmpty(e.CopyStatement)));
        return other is null ? null : $"the archive holds {other.Description} data";
    }

    /// <summary>The next data block's dump id, or null at the end of the archive.</summary>
    public async Task<int?> NextBlockAsync(CancellationToken ct)
    {
        if (_position == _length && !await FillAsync(ct))
        {
            return null;
        }
        var type = await ByteAsync(ct);
        if (type != DataBlock)
        {
            throw new InvalidDataException($"unexpected archive block type {type} at byte {Consumed - 1}");
        }
        return (int)await IntAsync(ct);
    }

    /// <summary>
    /// Copies the next chunk of the current block into <paramref name="destination"/> when it is already
    /// buffered and fits: the hot path, taken for nearly every row. False, with nothing consumed, otherwise.
    /// </summary>
    public bool TryReadChunk(Span<byte> destination, out int length)
    {
        length = 0;
        var header = 1 + _intSize;
        var available = _buffer.AsSpan(_position, _length - _position);
        if (_recording is not null || available.Length < header || available[0] != 0)
        {
            return false;
        }
        long value = 0;
        for (var i = 0; i < _intSize; i++)
        {
            value |= (long)available[1 + i] << (8 * i);
        }
        if (value > destination.Length || header + value > available.Length)
        {
            return false;
        }
        available.Slice(header, (int)value).CopyTo(destination);
        _position += header + (int)value;
        Consumed += header + value;
        length = (int)value;
        return true;
    }

    /// <summary>
    /// pg_dump ends each table's rows with COPY's end-of-data line (a backslash and a period) as a chunk of its
    /// own. COPY text doubles every backslash inside data, so a line that is exactly that is never a row.
    /// </summary>
    public static bool IsEndOfCopyMarker(ReadOnlySpan<byte> chunk) =>
        chunk.StartsWith("\\.\n"u8) && !chunk[3..].ContainsAnyExcept((byte)'\n');

    /// <summary>The length of the next chunk of the current block; 0 ends the block.</summary>
    public async ValueTask<int> ChunkLengthAsync(CancellationToken ct)
    {
        var length = await IntAsync(ct);
        return length is < 0 or > int.MaxValue ? throw new InvalidDataException($"archive chunk of {length} bytes") : (int)length;
    }

    public async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (destination.Length > 0)
        {
            if (_position == _length && !await FillAsync(ct))
            {
                throw new EndOfStreamException("the archive ends in the middle of an entry");
            }
            var n = Math.Min(destination.Length, _length - _position);
            var chunk = _buffer.AsMemory(_position, n);
            chunk.CopyTo(destination);
            _recording?.Write(chunk.Span);
            _position += n;
            Consumed += n;
            destination = destination[n..];
        }
    }

    private async ValueTask<byte> ByteAsync(CancellationToken ct)
    {
        if (_position == _length && !await FillAsync(ct))
        {
            throw new EndOfStreamException("the archive ends in the middle of an entry");
        }
        var b = _buffer[_position++];
        _recording?.WriteByte(b);
        Consumed++;
        return b;
    }

    private async ValueTask<long> IntAsync(CancellationToken ct)
    {
        var negative = await ByteAsync(ct) != 0;
        long value = 0;
        for (var i = 0; i < _intSize; i++)
        {
            value |= (long)await ByteAsync(ct) << (8 * i);
        }
        return negative ? -value : value;
    }

    private async ValueTask<string?> StringAsync(CancellationToken ct)
    {
        var length = await IntAsync(ct);
        if (length < 0)
        {
            return null;
        }
        if (length > MaxString)
        {
            throw new InvalidDataException($"archive string of {length} bytes");
        }
        var bytes = new byte[length];
        await ReadExactlyAsync(bytes, ct);
        return Encoding.UTF8.GetString(bytes);
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _position = 0;
        _length = await source.ReadAsync(_buffer, ct);
        return _length > 0;
    }
}
