using Floyo.Recovery.Configuration;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Breach;

/// <summary>Where a breach recovery acts, for messages: the server (host:port) and the database, and whether it is a drill.</summary>
public sealed record BreachTarget(string Server, string Database, bool Drill)
{
    public override string ToString() => $"'{Database}' on {Server}{(Drill ? " (staging, drill)" : "")}";
}

/// <summary>
/// The one place that decides which database a breach recovery isolates, inspects and restores: the
/// application's database on the production server, or, in drill mode, the staging database
/// (STAGING_DATABASE_URL, which is refused when it names production). Backups are always those of the
/// application's database: a drill rehearses restoring production's backup, onto staging.
/// </summary>
public sealed class BreachTargets(DatabaseConnections connections, StagingServer staging, IOptions<DatabaseOptions> database, IOptions<RotationOptions> rotation)
{
    /// <summary>An administrative connection string whose database is the target database.</summary>
    public async Task<NpgsqlConnectionStringBuilder> ConnectionAsync(bool drill, CancellationToken ct)
    {
        if (drill)
        {
            return staging.Server;
        }
        var server = await connections.DatabaseAsync(ct);
        return DatabaseUrl.WithDatabase(server, BackupDatabase);
    }

    public async Task<BreachTarget> DescribeAsync(bool drill, CancellationToken ct)
    {
        var target = await ConnectionAsync(drill, ct);
        return new BreachTarget($"{target.Host}:{target.Port}", target.Database!, drill);
    }

    /// <summary>The application's database (APP_DB_DATABASE, else DATABASE_URL's): whose backups are restored.</summary>
    public string BackupDatabase => rotation.Value.Database is { Length: > 0 } app ? app : DatabaseUrl.Parse(database.Value.DatabaseUrl).Database!;
}
