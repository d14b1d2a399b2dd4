using System.Diagnostics;
using System.Text;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Floyo.Recovery.Restores;

public sealed record RestoreRequest(string Backup, string? TargetDatabase = null, bool DropExisting = false, BackupSource From = BackupSource.Primary);

/// <summary>What a restore will do, decided before anything is touched.</summary>
public sealed record RestorePlan(BackupEntry Backup, string Server, string TargetDatabase, bool TargetExists, bool ReplacesExisting);

/// <param name="DatabaseOid">The restored database's OID: the copy whose rows were proven before it took the target's name.</param>
/// <param name="KeptAside">Where the replaced database was kept instead of dropped (a breach restore keeps it as evidence).</param>
public sealed record RestoreResult(string Backup, string Server, string TargetDatabase, bool ReplacedExisting, double DurationSeconds, IReadOnlyList<string> CreatedRoles, uint DatabaseOid = 0, string? KeptAside = null);

/// <summary>
/// Restores a backup so that nothing can be lost by accident: the target is only ever the database of
/// DATABASE_URL or the one named explicitly; a non-empty target is refused unless replacing it was asked
/// for; the backup's checksum is proven before the server is touched; and the data is restored into a
/// staging database that replaces the target only once it is complete and its counts match the backup.
/// </summary>
public sealed partial class RestoreRunner(
    BackupCatalog catalog,
    BackupStores stores,
    DatabaseRestorer restorer,
    DatabaseConnections connections,
    ILogger<RestoreRunner> logger)
{
    private static readonly HashSet<string> SystemDatabases = new(StringComparer.Ordinal) { "postgres", "template0", "template1" };

    /// <param name="server">Another server than DATABASE_URL's (a breach drill restores onto staging).</param>
    public async Task<RestorePlan> PlanAsync(RestoreRequest request, CancellationToken ct, NpgsqlConnectionStringBuilder? server = null)
    {
        server ??= await connections.DatabaseAsync(ct);
        var target = request.TargetDatabase ?? server.Database!;
        CheckTargetName(target);
        var entry = await stores.Catalog(request.From, catalog).FindAsync(request.Backup, ct);
        return await PlanAsync(entry, stores.For(request.From), target, request.DropExisting, server, ct);
    }

    /// <summary>The same decisions for a backup in any store (a point-in-time recovered copy's dump in a private work store).</summary>
    public static async Task<RestorePlan> PlanAsync(BackupEntry entry, IBackupStore store, string target, bool dropExisting, NpgsqlConnectionStringBuilder server, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(server);
        CheckTargetName(target);
        if (!entry.IsValid)
        {
            throw new IntegrityException($"{entry.Name} is not valid ({string.Join("; ", entry.Problems)}); it will not be restored");
        }
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
        var exists = await PgConnector.DatabaseExistsAsync(admin, target, ct);
        var replaces = false;
        if (exists && !await DatabaseRestorer.IsEmptyAsync(server, target, ct))
        {
            if (!dropExisting)
            {
                throw new RefusedException($"database '{target}' at {server.Host}:{server.Port} is not empty: pass --drop-existing to replace it, or --target-database to restore elsewhere; nothing was changed");
            }
            replaces = true;
        }
        await RestorePreflight.CheckAsync(admin, store, entry, target, exists, ct);
        return new RestorePlan(entry, $"{server.Host}:{server.Port}", target, exists, replaces);
    }

    public async Task<RestoreResult> RunAsync(RestoreRequest request, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var plan = await PlanAsync(request, ct);
        return await ExecuteAsync(plan, new StoredBackup(stores.For(request.From), plan.Backup, progress), started, ct);
    }

    /// <param name="beforeSwap">
    /// Runs on the complete, checked staging database just before it takes the target's name (the restore
    /// workflow closes it to the application roles here, so writes stay stopped across the swap).
    /// </param>
    /// <param name="keepReplacedAs">The name the replaced database is renamed to and kept under instead of being dropped (breach evidence).</param>
    public async Task<RestoreResult> ExecuteAsync(
        RestorePlan plan, StoredBackup backup, Stopwatch started, CancellationToken ct,
        Func<NpgsqlConnection, string, CancellationToken, Task>? beforeSwap = null, NpgsqlConnectionStringBuilder? server = null, string? keepReplacedAs = null)
    {
        server ??= await connections.DatabaseAsync(ct);
        var meta = plan.Backup.Metadata;
        if (!backup.ChecksumProven)
        {
            // Before anything on the server changes, roles included.
            await ChecksumChecker.ProveAsync(backup.Store, backup.Entry, ct);
            backup = backup with { ChecksumProven = true };
        }
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
        // A restore may keep the roles it creates (a new server needs them); existing ones are never changed.
        var created = (await RoleProvisioner.EnsureAsync(admin, meta.Facts.Roles, ct)).Roles;
        var staging = StagingName(plan.TargetDatabase, "restore");
        uint oid;
        LogRestoring(logger, meta.Name, plan.TargetDatabase, plan.Server);
        try
        {
            var problems = await restorer.RestoreNewAsync(admin, server, staging, backup, ct, closed: true);
            if (problems.Count > 0)
            {
                throw new IntegrityException($"the restored copy does not match the backup ({problems.Count} differences, first: {problems[0]}); '{plan.TargetDatabase}' was not changed");
            }
            oid = await DatabaseOidAsync(admin, staging, ct);
            await CloseStagingAsync(admin, staging, ct);
            if (beforeSwap is not null)
            {
                await beforeSwap(admin, staging, ct);
            }
            await SwapIntoPlaceAsync(admin, server, plan, staging, keepReplacedAs, ct);
        }
        catch (Exception e) when (e is not StagingKeptException)
        {
            await DatabaseRestorer.DropDatabaseAsync(admin, staging, CancellationToken.None);
            throw;
        }
        LogRestored(logger, meta.Name, plan.TargetDatabase, started.Elapsed.TotalSeconds);
        DrMetrics.RecordRestore(plan.TargetDatabase, "full", started.Elapsed);
        return new RestoreResult(meta.Name, plan.Server, plan.TargetDatabase, plan.ReplacesExisting, Math.Round(started.Elapsed.TotalSeconds, 3), created, oid);
    }

    /// <summary>
    /// Shuts the complete copy to new sessions (the admin works from the maintenance database) and ends those on
    /// it, which would make its rename fail; then gives PUBLIC back the CONNECT every new database has, taken
    /// at creation so nobody used the copy while it loaded. It opens once it holds the target's name.
    /// </summary>
    private static async Task CloseStagingAsync(NpgsqlConnection admin, string staging, CancellationToken ct)
    {
        await AllowConnectionsAsync(admin, staging, false, ct);
        await EndSessionsAsync(admin, staging, ct);
        await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(staging)} TO PUBLIC", ct);
    }

    /// <summary>
    /// Re-checks the target (it may have changed since planning), then renames: the old database is only
    /// dropped once the restored one holds its name. If the copy cannot take the name, the original gets it
    /// back with its connection setting as it was, and the copy is kept for the operator.
    /// </summary>
    private static async Task SwapIntoPlaceAsync(NpgsqlConnection admin, NpgsqlConnectionStringBuilder server, RestorePlan plan, string staging, string? keepReplacedAs, CancellationToken ct)
    {
        var target = plan.TargetDatabase;
        if (!await PgConnector.DatabaseExistsAsync(admin, target, ct))
        {
            await RenameAsync(admin, staging, target, ct);
            await AllowConnectionsAsync(admin, target, true, ct);
            return;
        }
        if (!plan.ReplacesExisting && !await DatabaseRestorer.IsEmptyAsync(server, target, ct))
        {
            throw new RefusedException($"database '{target}' gained objects while restoring and --drop-existing was not given; it was not changed");
        }
        var old = keepReplacedAs ?? StagingName(target, "replaced");
        var allowed = await AllowsConnectionsAsync(admin, target, ct);
        // Block new sessions first, so none can slip in between ending the old ones and the rename.
        await AllowConnectionsAsync(admin, target, false, ct);
        try
        {
            await EndSessionsAsync(admin, target, ct);
            await RenameAsync(admin, target, old, ct);
        }
        catch
        {
            await AllowConnectionsAsync(admin, target, allowed, CancellationToken.None);
            throw;
        }
        try
        {
            await RenameAsync(admin, staging, target, ct);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            throw await PutBackAsync(admin, target, old, allowed, staging, e);
        }
        await AllowConnectionsAsync(admin, target, true, ct);
        if (keepReplacedAs is null)
        {
            await DatabaseRestorer.DropDatabaseAsync(admin, old, ct);
        }
    }

    /// <summary>Gives the original its name and connection setting back; the restored copy stays, closed, for the operator.</summary>
    private static async Task<StagingKeptException> PutBackAsync(NpgsqlConnection admin, string target, string old, bool allowed, string staging, Exception why)
    {
        string original;
        try
        {
            await RenameAsync(admin, old, target, CancellationToken.None);
            await AllowConnectionsAsync(admin, target, allowed, CancellationToken.None);
            original = $"'{target}' was put back as it was";
        }
        catch (NpgsqlException e)
        {
            original = $"'{target}' could not be put back ({Reason(e)}): it is still named '{old}', closed to connections";
        }
        return new StagingKeptException(
            $"the restored copy could not take the name '{target}' ({Reason(why)}); {original}; the restored copy is kept, closed to connections, as '{staging}'", staging, why);
    }

    private static string Reason(Exception e) => e is PostgresException pg ? pg.MessageText : e.Message;

    private static Task RenameAsync(NpgsqlConnection admin, string from, string to, CancellationToken ct) =>
        PgConnector.ExecuteAsync(admin, $"ALTER DATABASE {PgConnector.Quote(from)} RENAME TO {PgConnector.Quote(to)}", ct);

    private static async Task<bool> AllowsConnectionsAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT datallowconn FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } };
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private static Task AllowConnectionsAsync(NpgsqlConnection admin, string database, bool allow, CancellationToken ct) =>
        PgConnector.ExecuteAsync(admin, $"ALTER DATABASE {PgConnector.Quote(database)} ALLOW_CONNECTIONS {(allow ? "true" : "false")}", ct);

    /// <summary>
    /// Ends the sessions on <paramref name="database"/> this admin may end: a non-superuser (a managed server's
    /// admin) cannot end a superuser's, and asking would fail the whole statement; such a session makes the rename fail.
    /// </summary>
    private static async Task EndSessionsAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        const string sql = """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid))
            FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
            WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND (current_setting('is_superuser')::bool OR r.rolsuper IS FALSE)
            """;
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = database } } };
        await command.ExecuteScalarAsync(ct);
    }

    /// <summary>Refuses names PostgreSQL would reject and the system databases; used by every front end before anything starts.</summary>
    internal static async Task<uint> DatabaseOidAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT oid FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } };
        return (uint)(await command.ExecuteScalarAsync(ct))!;
    }

    public static void CheckTargetName(string target, string what = "the target database")
    {
        PgIdentifier.Database(target, what);
        if (SystemDatabases.Contains(target))
        {
            throw new RefusedException($"refusing to restore into the system database '{target}': name an application database with --target-database");
        }
    }

    /// <summary>A name beside the target's, within PostgreSQL's 63-byte limit.</summary>
    internal static string StagingName(string target, string purpose)
    {
        var suffix = $"_floyo_{purpose}_{Guid.NewGuid().ToString("N")[..8]}";
        var prefix = target;
        while (Encoding.UTF8.GetByteCount(prefix) + suffix.Length > 63)
        {
            prefix = prefix[..^1];
        }
        return prefix + suffix;
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Restoring {Backup} into {Target} on {Server}")]
    private static partial void LogRestoring(ILogger logger, string backup, string target, string server);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Restored {Backup} into {Target} in {Seconds:F1} s")]
    private static partial void LogRestored(ILogger logger, string backup, string target, double seconds);
}
