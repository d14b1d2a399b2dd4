using System.Globalization;
using System.Text.RegularExpressions;

namespace Floyo.Recovery.Breach;

/// <summary>
/// Reads <c>--since</c>: when the breach is believed to have started. It must name its time zone (an
/// on-call engineer's local time silently read as UTC could choose a backup taken after the breach) and
/// must not be in the future.
/// </summary>
public static partial class BreachSince
{
    /// <summary>Clocks disagree a little; a --since this far ahead of ours is still accepted as "now".</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);

    public static DateTimeOffset Parse(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new UsageException("--since is required: when the breach is believed to have started, e.g. 2025-03-01T14:00:00Z");
        }
        var value = text.Trim();
        var shown = value.Length > 40 ? value[..40] + "..." : value;
        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var since) || !LooksLikeDateTime().IsMatch(value))
        {
            throw new UsageException($"--since '{shown}' is not a date and time: use ISO 8601 with a time zone, e.g. 2025-03-01T14:00:00Z");
        }
        if (!HasZone().IsMatch(value))
        {
            throw new UsageException($"--since '{shown}' has no time zone: add Z for UTC or an offset such as +01:00");
        }
        if (since > now + ClockSkew)
        {
            throw new UsageException($"--since {Format(since)} is in the future (now {Format(now)}); nothing was isolated");
        }
        return since.ToUniversalTime();
    }

    public static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")]
    private static partial Regex LooksLikeDateTime();

    [GeneratedRegex(@"(Z|[+-]\d{2}(:?\d{2})?)$", RegexOptions.IgnoreCase)]
    private static partial Regex HasZone();
}
