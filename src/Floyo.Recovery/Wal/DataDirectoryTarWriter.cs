using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Floyo.Recovery.Wal;

/// <summary>
/// Lays a data directory out as a ustar archive in pooled chunks for the compressor, reading each file straight into
/// the chunk it is sent in (no second copy) and taking its CRC32C on the way, for the manifest. Runs apart from the
/// compressor: a bounded channel between them keeps reads ahead of compression without holding the directory in memory.
/// A file is sent at the size it had when opened: one that shrinks while read is padded with zeros to that size,
/// one that grows is cut at it (WAL replay from the backup's start repairs both, as with pg_basebackup); one that
/// vanished before it could be opened is left out.
/// </summary>
public sealed class DataDirectoryTarWriter(ChannelWriter<(byte[] Buffer, int Length)> chunks, BackupManifestBuilder manifest, int chunkSize = 1 << 20)
{
    private const int Block = 512;
    private static readonly byte[] Zeros = new byte[64 << 10];

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
    private int _fill;

    /// <summary>The archive's bytes so far.</summary>
    public long Bytes { get; private set; }

    public async Task AddAsync(DataDirectoryEntry entry, CancellationToken ct)
    {
        if (entry.IsDirectory)
        {
            await WriteAsync(Header(entry.RelativePath, (byte)'5', 0, entry.Mode, entry.LastModified), ct);
            return;
        }
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(entry.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Dropped between the listing and now: recovery replays the drop.
            return;
        }
        using (handle)
        {
            var size = RandomAccess.GetLength(handle);
            await WriteAsync(Header(entry.RelativePath, (byte)'0', size, entry.Mode, entry.LastModified), ct);
            var crc = Crc32C.Initial;
            long offset = 0;
            while (offset < size)
            {
                if (_fill == chunkSize)
                {
                    await FlushAsync(ct);
                }
                var room = (int)Math.Min(chunkSize - _fill, size - offset);
                var read = await RandomAccess.ReadAsync(handle, _buffer.AsMemory(_fill, room), offset, ct);
                if (read == 0)
                {
                    // Truncated while read: the header promised `size` bytes; zeros keep the archive well-formed.
                    Array.Clear(_buffer, _fill, room);
                    read = room;
                }
                crc = Crc32C.Append(crc, _buffer.AsSpan(_fill, read));
                _fill += read;
                offset += read;
                Bytes += read;
            }
            await PadAsync(size, ct);
            manifest.AddFile(entry.RelativePath, size, entry.LastModified, Crc32C.Finish(crc));
        }
    }

    /// <summary>A file made here (backup_label from pg_backup_stop), with its manifest line.</summary>
    public async Task AddContentAsync(string name, byte[] content, DateTimeOffset modified, CancellationToken ct)
    {
        await WriteAsync(Header(name, (byte)'0', content.Length, UnixFileMode.UserRead | UnixFileMode.UserWrite, modified), ct);
        await WriteAsync(content, ct);
        await PadAsync(content.Length, ct);
        manifest.AddFile(name, content.Length, modified, Crc32C.Finish(Crc32C.Append(Crc32C.Initial, content)));
    }

    /// <summary>The end-of-archive blocks, then the last chunk; the channel is completed.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        await WriteAsync(Zeros.AsMemory(0, 2 * Block), ct);
        await FlushAsync(ct);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        chunks.Complete();
    }

    private async Task PadAsync(long size, CancellationToken ct)
    {
        var padding = (int)((Block - size % Block) % Block);
        if (padding > 0)
        {
            await WriteAsync(Zeros.AsMemory(0, padding), ct);
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            if (_fill == chunkSize)
            {
                await FlushAsync(ct);
            }
            var take = Math.Min(chunkSize - _fill, data.Length);
            data.Span[..take].CopyTo(_buffer.AsSpan(_fill));
            _fill += take;
            Bytes += take;
            data = data[take..];
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        if (_fill == 0)
        {
            return;
        }
        var full = _buffer;
        var length = _fill;
        _buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        _fill = 0;
        await chunks.WriteAsync((full, length), ct);
    }

    /// <summary>A ustar header (a long path's directories in the prefix field), as pg_basebackup writes its own.</summary>
    internal static byte[] Header(string name, byte type, long size, UnixFileMode mode, DateTimeOffset modified)
    {
        var header = new byte[Block];
        var (prefix, shortName) = Split(name);
        Encoding.UTF8.GetBytes(shortName, header.AsSpan(0, 100));
        Octal(header.AsSpan(100, 8), (long)mode & 0xFFF, 7);
        Octal(header.AsSpan(108, 8), 0, 7);
        Octal(header.AsSpan(116, 8), 0, 7);
        if (size < 1L << 33)
        {
            Octal(header.AsSpan(124, 12), size, 11);
        }
        else
        {
            // 8 GiB and more (a large server log): GNU base-256, as pg_basebackup writes it and TarReader reads it.
            header[124] = 0x80;
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(128, 8), size);
        }
        Octal(header.AsSpan(136, 12), Math.Max(0, modified.ToUnixTimeSeconds()), 11);
        header.AsSpan(148, 8).Fill((byte)' ');
        header[156] = type;
        "ustar\0"u8.CopyTo(header.AsSpan(257));
        "00"u8.CopyTo(header.AsSpan(263));
        "postgres"u8.CopyTo(header.AsSpan(265));
        "postgres"u8.CopyTo(header.AsSpan(297));
        Encoding.UTF8.GetBytes(prefix, header.AsSpan(345, 155));
        long sum = 0;
        foreach (var b in header)
        {
            sum += b;
        }
        Octal(header.AsSpan(148, 8), sum, 6);
        header[155] = (byte)' ';
        return header;
    }

    private static (string Prefix, string Name) Split(string name)
    {
        if (Encoding.UTF8.GetByteCount(name) <= 100)
        {
            return ("", name);
        }
        for (var slash = name.IndexOf('/'); slash > 0; slash = name.IndexOf('/', slash + 1))
        {
            if (Encoding.UTF8.GetByteCount(name[..slash]) <= 155 && Encoding.UTF8.GetByteCount(name[(slash + 1)..]) <= 100)
            {
                return (name[..slash], name[(slash + 1)..]);
            }
        }
        throw new RecoveryException($"the path {name} is too long for a ustar header; unset BASE_BACKUP_DATA_DIR to back it up with pg_basebackup");
    }

    private static void Octal(Span<byte> field, long value, int digits)
    {
        var text = Convert.ToString(value, 8).PadLeft(digits, '0');
        Encoding.ASCII.GetBytes(text, field);
        field[digits] = 0;
    }
}
