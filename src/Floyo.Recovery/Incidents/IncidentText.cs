using System.Text.RegularExpressions;

namespace Floyo.Recovery.Incidents;

/// <summary>
/// What a failed workflow puts into an incident goes to Slack, email and maybe a status page: error messages are
/// scrubbed of URLs (a connection string or webhook carries its secret in them) and key=value secrets first.
/// </summary>
public static partial class IncidentText
{
    public const int MaxLength = 600;

    public static string Scrub(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }
        var scrubbed = Url().Replace(text, m => $"{m.Groups["scheme"].Value}://(redacted)");
        scrubbed = KeyValue().Replace(scrubbed, m => $"{m.Groups["key"].Value}=(redacted)");
        scrubbed = scrubbed.ReplaceLineEndings(" ").Trim();
        return scrubbed.Length > MaxLength ? scrubbed[..MaxLength] + "..." : scrubbed;
    }

    [GeneratedRegex(@"(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://[^\s'""<>]+")]
    private static partial Regex Url();

    [GeneratedRegex(@"(?i)\b(?<key>password|pwd|passwd|secret|token|accountkey|sharedaccesskey|sig|apikey|api_key)\s*=\s*(""[^""]*""|'[^']*'|[^;\s&]+)")]
    private static partial Regex KeyValue();
}
