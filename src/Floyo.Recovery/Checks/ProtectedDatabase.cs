using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>The database DATABASE_URL names, or null (then the store's backups of every database count).</summary>
internal static class ProtectedDatabase
{
    public static bool IsConfigured(IOptions<DatabaseOptions> options) => !string.IsNullOrWhiteSpace(options.Value.DatabaseUrl);

    public static string? Name(IOptions<DatabaseOptions> options) =>
        options.Value.DatabaseUrl is { Length: > 0 } url && DatabaseUrl.TryParse(url, out var parsed, out _) ? parsed.Database : null;
}
