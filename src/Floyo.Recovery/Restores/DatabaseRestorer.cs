using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Server-side steps shared by restores and verification: provision roles, create a fresh database
/// shaped like the original, restore into it in parallel, and read back the restored facts.
/// </summary>
public sealed class DatabaseRestorer(StreamingRestorer streaming, BackupFetcher fetcher, PgRestore pgRestore, IOptions<DatabaseOptions> options)
{
    /// <summary>Connects to a maintenance database on the server, never to the one being replaced.</summary>
    public static async Task<NpgsqlConnection> OpenMaintenanceAsync(NpgsqlConnectionStringBuilder server, CancellationToken ct)
    {
        try
        {
            return await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), ct);
        }
        catch (RecoveryException e) when (e.InnerException is PostgresException { SqlState: "3D000" })
        {
            return await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "template1"), ct);
        }
    }

    /// <summary>Whether a database holds anything a user made (tables, views, functions, types, schemas, sequences).</summary>
    public static async Task<bool> IsEmptyAsync(NpgsqlConnectionStringBuilder server, string database, CancellationToken ct)
    {
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, database), ct);
        const string sql = """
            SELECT NOT EXISTS (
                SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
                UNION ALL
                SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                UNION ALL
                SELECT 1 FROM pg_namespace n
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%')
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Creates <paramref name="database"/> from template0 with the original's owner, encoding and locale.
    /// Roles are the caller's to provision first (<see cref="RoleProvisioner"/>): only the caller knows
    /// whether what it creates may stay (a restore onto a new server) or must go (verification, drills).
    /// </summary>
    /// <param name="closed">Take CONNECT from PUBLIC at once: a staging copy is the admin's alone until it takes its final name.</param>
    public async Task CreateDatabaseAsync(NpgsqlConnection admin, string database, BackupMetadata meta, CancellationToken ct, bool closed = false)
    {
        var props = meta.Facts.Properties;
        var owner = await RoleExistsAsync(admin, props.Owner, ct) ? $" OWNER {PgConnector.Quote(props.Owner)}" : "";
        var baseSql = $"CREATE DATABASE {PgConnector.Quote(database)} TEMPLATE template0 ENCODING {PgConnector.Literal(props.Encoding)}{owner}";
        try
        {
            await PgConnector.ExecuteAsync(admin, $"{baseSql} LC_COLLATE {PgConnector.Literal(props.Collate)} LC_CTYPE {PgConnector.Literal(props.Ctype)}", ct);
        }
        catch (PostgresException e) when (e.SqlState is "22023" or "42809" or "XX000")
        {
            // The new server may lack the original locale; the server default beats no restore at all.
            await PgConnector.ExecuteAsync(admin, baseSql, ct);
        }
        if (closed)
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {PgConnector.Quote(database)} FROM PUBLIC", ct);
        }
    }

    /// <summary>
    /// Restores into a database it creates, and says how the result differs from what the backup recorded.
    /// The backup's checksum is proven before the server is touched, unless the caller just proved it.
    /// The backup's roles must already exist (see <see cref="CreateDatabaseAsync"/>), and a non-superuser admin's
    /// rights be proven first (<see cref="RestorePreflight"/>).
    /// </summary>
    /// <param name="closed">Created without CONNECT for PUBLIC (see <see cref="CreateDatabaseAsync"/>).</param>
    public async Task<IReadOnlyList<string>> RestoreNewAsync(
        NpgsqlConnection admin, NpgsqlConnectionStringBuilder server, string database, StoredBackup backup, CancellationToken ct, bool closed = false)
    {
        var meta = backup.Entry.Metadata;
        if (!backup.ChecksumProven)
        {
            await ChecksumChecker.ProveAsync(backup.Store, backup.Entry, ct);
        }
        await CreateDatabaseAsync(admin, database, meta, ct, closed);
        if (!await streaming.TryRestoreAsync(server, database, backup, ct))
        {
            using var dump = await fetcher.FetchAsync(backup.Store, backup.Entry, backup.Progress, ct);
            await pgRestore.RunAsync(server, database, dump.Path, null, options.Value.RestoreJobs, ct);
        }
        return FactsComparison.Compare(meta.Facts, await ReadFactsAsync(server, database, ct));
    }

    private static async Task<DatabaseFacts> ReadFactsAsync(NpgsqlConnectionStringBuilder server, string database, CancellationToken ct)
    {
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, database), ct);
        return await DatabaseInspector.CaptureAsync(connection, ct);
    }

    public static async Task DropDatabaseAsync(NpgsqlConnection admin, string database, CancellationToken ct) =>
        await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {PgConnector.Quote(database)} WITH (FORCE)", ct);

    private static async Task<bool> RoleExistsAsync(NpgsqlConnection admin, string role, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", admin) { Parameters = { new() { Value = role } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }
}
