using System.Globalization;
using System.Text.RegularExpressions;

namespace Floyo.Recovery.Wal;

public enum WalFileKind
{
    Segment,
    Partial,
    History,
    BackupLabel,
}

/// <summary>
/// The files PostgreSQL hands to archive_command and asks restore_command for: 24-hex-digit segments
/// (timeline, log, segment), <c>.partial</c> segments of a promoted standby, <c>TTTTTTTT.history</c>
/// timeline histories and <c>.backup</c> labels. Anything else is refused before it reaches the store.
/// </summary>
public sealed partial record WalFileName(string Name, WalFileKind Kind, uint Timeline, ulong SegmentNumber)
{
    /// <summary>Segments per 4 GiB "log" for 16 MiB segments, the default and what the archive assumes unless told.</summary>
    public const long DefaultSegmentSize = 16L * 1024 * 1024;

    public static WalFileName Parse(string name) => TryParse(name, DefaultSegmentSize, out var parsed)
        ? parsed!
        : throw new UsageException($"'{name}' is not a WAL file name (24 hex digits, a .history, .backup or .partial file)");

    public static bool TryParse(string name, long segmentSize, out WalFileName? parsed)
    {
        parsed = null;
        var match = Pattern().Match(name);
        if (!match.Success)
        {
            return false;
        }
        var timeline = uint.Parse(match.Groups["tli"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (match.Groups["history"].Success)
        {
            parsed = new(name, WalFileKind.History, timeline, 0);
            return true;
        }
        var log = ulong.Parse(match.Groups["log"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var seg = ulong.Parse(match.Groups["seg"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var kind = match.Groups["backup"].Success ? WalFileKind.BackupLabel : match.Groups["partial"].Success ? WalFileKind.Partial : WalFileKind.Segment;
        parsed = new(name, kind, timeline, log * SegmentsPerLog(segmentSize) + seg);
        return true;
    }

    /// <summary>The segment file name holding <paramref name="segmentNumber"/> on <paramref name="timeline"/>.</summary>
    public static string SegmentName(uint timeline, ulong segmentNumber, long segmentSize = DefaultSegmentSize)
    {
        var perLog = SegmentsPerLog(segmentSize);
        return string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{segmentNumber / perLog:X8}{segmentNumber % perLog:X8}");
    }

    /// <summary>The segment number an LSN (<c>X/Y</c>) falls in.</summary>
    public static ulong SegmentOf(string lsn, long segmentSize = DefaultSegmentSize) => ParseLsn(lsn) / (ulong)segmentSize;

    public static ulong ParseLsn(string lsn)
    {
        var parts = lsn.Split('/');
        if (parts.Length != 2
            || !ulong.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var high)
            || !ulong.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var low))
        {
            throw new RecoveryException($"'{lsn}' is not a WAL location (X/Y in hex)");
        }
        return (high << 32) | low;
    }

    private static ulong SegmentsPerLog(long segmentSize) => 0x1_0000_0000UL / (ulong)segmentSize;

    [GeneratedRegex(@"^(?:(?<tli>[0-9A-F]{8})(?<log>[0-9A-F]{8})(?<seg>[0-9A-F]{8})(?:(?<partial>\.partial)|(?<backup>\.[0-9A-F]{8}\.backup))?|(?<tli>[0-9A-F]{8})(?<history>\.history))$")]
    private static partial Regex Pattern();
}
