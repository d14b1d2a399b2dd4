using System.Text;

namespace Floyo.Recovery.Wal;

/// <summary>
/// Walks the tar headers of pg_basebackup's output as its chunks pass, without copying the data, and keeps
/// the few small files it is asked for (backup_label, backup_manifest). Chunks may split a header or a kept
/// file anywhere. A header whose checksum is wrong stops the walk (<see cref="Malformed"/>): the stream is
/// not a tar, and the caller reports the missing label.
/// </summary>
public sealed class BaseBackupTarWalker(IReadOnlySet<string> keep, int maxKeptBytes = 256 << 20)
{
    private const int Block = 512;

    private readonly byte[] _header = new byte[Block];
    private readonly Dictionary<string, string> _kept = new(StringComparer.Ordinal);
    private int _headerFill;
    private long _dataLeft;
    private long _paddingLeft;
    private MemoryStream? _capture;
    private string? _captureName;

    /// <summary>The kept files seen in full so far, by their name in the tar.</summary>
    public IReadOnlyDictionary<string, string> Files => _kept;

    /// <summary>The end-of-archive block was seen.</summary>
    public bool Ended { get; private set; }

    /// <summary>A header failed its checksum: the stream is not a tar (or is damaged) and the walk stopped.</summary>
    public bool Malformed { get; private set; }

    public void Append(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty && !Ended && !Malformed)
        {
            if (_dataLeft > 0)
            {
                var take = (int)Math.Min(_dataLeft, chunk.Length);
                _capture?.Write(chunk[..take]);
                _dataLeft -= take;
                chunk = chunk[take..];
                if (_dataLeft == 0)
                {
                    FinishEntry();
                }
                continue;
            }
            if (_paddingLeft > 0)
            {
                var skip = (int)Math.Min(_paddingLeft, chunk.Length);
                _paddingLeft -= skip;
                chunk = chunk[skip..];
                continue;
            }
            var copy = Math.Min(Block - _headerFill, chunk.Length);
            chunk[..copy].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += copy;
            chunk = chunk[copy..];
            if (_headerFill == Block)
            {
                _headerFill = 0;
                ReadHeader();
            }
        }
    }

    private void ReadHeader()
    {
        var header = _header.AsSpan();
        if (!header.ContainsAnyExcept((byte)0))
        {
            // pg_basebackup ends the archive with zero blocks; one is enough to know the entries are over.
            Ended = true;
            return;
        }
        if (!ChecksumMatches(header) || !TryParseSize(header.Slice(124, 12), out var size))
        {
            Malformed = true;
            return;
        }
        var type = header[156];
        var name = NameOf(header);
        _dataLeft = size;
        _paddingLeft = (Block - size % Block) % Block;
        // Regular files only ('0' or the old NUL); a directory or link of the same name carries no data.
        if (type is (byte)'0' or 0 && keep.Contains(name))
        {
            if (size > maxKeptBytes)
            {
                throw new RecoveryException($"pg_basebackup's {name} is {size} bytes, over the {maxKeptBytes} bytes a base backup's metadata may take");
            }
            _capture = new MemoryStream((int)size);
            _captureName = name;
        }
        if (size == 0)
        {
            FinishEntry();
        }
    }

    private void FinishEntry()
    {
        if (_capture is not null && _captureName is not null)
        {
            _kept[_captureName] = Encoding.UTF8.GetString(_capture.GetBuffer(), 0, (int)_capture.Length);
        }
        _capture = null;
        _captureName = null;
    }

    private static string NameOf(ReadOnlySpan<byte> header)
    {
        var name = CString(header[..100]);
        // ustar keeps a long path's directories in the prefix field.
        var prefix = header.Slice(257, 6).SequenceEqual("ustar\0"u8) || header.Slice(257, 6).SequenceEqual("ustar "u8)
            ? CString(header.Slice(345, 155))
            : "";
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static bool ChecksumMatches(ReadOnlySpan<byte> header)
    {
        if (!TryParseOctal(header.Slice(148, 8), out var stored))
        {
            return false;
        }
        long sum = 0;
        for (var i = 0; i < Block; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        }
        return sum == stored;
    }

    private static bool TryParseSize(ReadOnlySpan<byte> field, out long size)
    {
        if ((field[0] & 0x80) != 0)
        {
            // GNU base-256, which pg_basebackup writes for files of 8 GiB and more.
            size = 0;
            for (var i = 1; i < field.Length; i++)
            {
                size = (size << 8) | field[i];
            }
            return size >= 0;
        }
        return TryParseOctal(field, out size);
    }

    private static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        var digits = 0;
        foreach (var b in field)
        {
            if (b is (byte)' ' or 0)
            {
                if (digits > 0)
                {
                    break;
                }
                continue;
            }
            if (b is < (byte)'0' or > (byte)'7')
            {
                return false;
            }
            value = value * 8 + (b - '0');
            digits++;
        }
        return digits > 0;
    }
}
