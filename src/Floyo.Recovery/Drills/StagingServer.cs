using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Drills;

/// <summary>
/// The only place drills may write: STAGING_DATABASE_URL's server and database. It is refused when it
/// names the production database (DATABASE_URL) or a system database, so a drill can never touch production.
/// </summary>
public sealed class StagingServer(IOptions<DrillOptions> drill, IOptions<DatabaseOptions> database)
{
    public NpgsqlConnectionStringBuilder Server
    {
        get
        {
            var staging = DatabaseUrl.Parse(drill.Value.StagingDatabaseUrl, "STAGING_DATABASE_URL");
            if (staging.Database is "postgres" or "template0" or "template1")
            {
                throw new RefusedException($"STAGING_DATABASE_URL names the system database '{staging.Database}': name a database drills may replace");
            }
            if (!string.IsNullOrWhiteSpace(database.Value.DatabaseUrl))
            {
                var production = DatabaseUrl.Parse(database.Value.DatabaseUrl);
                if (SameDatabase(staging, production))
                {
                    throw new RefusedException("STAGING_DATABASE_URL names the production database (DATABASE_URL): drills never run against production");
                }
            }
            return staging;
        }
    }

    public string Database => Server.Database!;

    private static bool SameDatabase(NpgsqlConnectionStringBuilder a, NpgsqlConnectionStringBuilder b) =>
        string.Equals(a.Database, b.Database, StringComparison.Ordinal) && a.Port == b.Port
        && (string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) || IsLocal(a.Host) && IsLocal(b.Host));

    private static bool IsLocal(string? host) => host is "localhost" or "127.0.0.1" or "::1" || host?.StartsWith('/') == true;
}
