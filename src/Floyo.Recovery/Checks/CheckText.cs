using System.Globalization;

namespace Floyo.Recovery.Checks;

/// <summary>Numbers as the checks' one-line details write them.</summary>
internal static class CheckText
{
    public static string Duration(TimeSpan span) => span switch
    {
        { TotalDays: >= 2 } => $"{span.TotalDays.ToString("F1", CultureInfo.InvariantCulture)} days",
        { TotalHours: >= 1 } => $"{(int)span.TotalHours}h{span.Minutes:D2}m",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes}m{span.Seconds:D2}s",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)}s",
    };

    public static string Bytes(double bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (1L << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString("F0", CultureInfo.InvariantCulture) + " B",
    };

    public static string Percent(double percent) => percent.ToString("F1", CultureInfo.InvariantCulture) + "%";
}
