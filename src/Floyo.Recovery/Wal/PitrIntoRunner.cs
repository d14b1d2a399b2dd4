using System.Diagnostics;
using System.Globalization;
using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Wal;

/// <param name="SourceDatabase">The database to take out of the recovered cluster.</param>
/// <param name="TargetDatabase">Its name on the destination server (default: the same name).</param>
/// <param name="KeepDataDirectory">Keep the recovered cluster's data directory (stopped) afterwards; otherwise it is removed.</param>
public sealed record PitrIntoRequest(PitrRequest Pitr, string SourceDatabase, string? TargetDatabase, bool DropExisting, bool KeepDataDirectory = true)
{
    public string Target => TargetDatabase ?? SourceDatabase;

    /// <summary>The names, checked once before anything starts: a bad one is a usage error, a system database as the target a refusal.</summary>
    public void CheckNames()
    {
        PgIdentifier.Database(SourceDatabase, "--target-database");
        RestoreRunner.CheckTargetName(Target, TargetDatabase is null ? "--target-database" : "--into");
    }
}

/// <param name="TransactionsReplayed">Transactions assigned after the base backup's checkpoint and replayed from the WAL archive (null when pg_controldata could not say).</param>
/// <param name="Facts">The recovered database's facts, read in the snapshot it was dumped in: what the copy was proven against.</param>
public sealed record PitrIntoResult(
    PitrResult Pitr, RestoreResult Restore, string SourceDatabase, ulong? TransactionsReplayed, DatabaseFacts Facts, bool DataDirectoryKept, double DurationSeconds);

/// <summary>
/// Point-in-time recovery of one database into a server, through the safe restore path: the base backup and
/// archived WAL are recovered into a private server (Unix socket only, reachable by floyo-dr alone); that one
/// database is dumped with its facts (row counts, objects, roles) read in the dump's own snapshot, as a backup
/// is; the server is stopped; and the dump is restored exactly as <c>restore --file</c> restores a backup:
/// target rules, preflight for a non-superuser admin, staging database, comparison with those facts, rename.
/// The destination is checked before the recovery starts (a non-empty target without --drop-existing is
/// refused before minutes of recovery), and again by the restore itself. The dump lives in a private work
/// store under FLOYO_WORK_DIR and is removed at the end, whatever happens.
/// </summary>
public sealed partial class PitrIntoRunner(
    PitrRestorer restorer,
    BaseBackupCatalog bases,
    RestoreRunner restores,
    AnomalyDetector anomalies,
    PgTools tools,
    DatabaseConnections connections,
    IOptions<BackupOptions> backup,
    IOptions<DatabaseOptions> database,
    TimeProvider clock,
    ILogger<PitrIntoRunner> logger)
{
    /// <summary>The socket "port" of the private server when none is asked for: with TCP off it only names the socket file.</summary>
    private const int PrivatePort = 5432;

    /// <summary>Refuses, before anything starts, what the restore would refuse anyway: a bad or system target name, a non-empty target without --drop-existing.</summary>
    public async Task CheckTargetAsync(PitrIntoRequest request, NpgsqlConnectionStringBuilder server, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.CheckNames();
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
        if (!request.DropExisting && await PgConnector.DatabaseExistsAsync(admin, request.Target, ct) && !await DatabaseRestorer.IsEmptyAsync(server, request.Target, ct))
        {
            throw new RefusedException($"database '{request.Target}' at {server.Host}:{server.Port} is not empty: pass --drop-existing to replace it, or name another database; nothing was changed");
        }
    }

    /// <param name="server">The destination: DATABASE_URL's server unless given (a drill copies onto staging).</param>
    /// <param name="beforeSwap">Passed to the restore: runs on the checked staging copy just before it takes the target's name.</param>
    public async Task<PitrIntoResult> RunAsync(
        PitrIntoRequest request, CancellationToken ct, NpgsqlConnectionStringBuilder? server = null,
        Func<NpgsqlConnection, string, CancellationToken, Task>? beforeSwap = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = Stopwatch.StartNew();
        server ??= await connections.DatabaseAsync(ct);
        await CheckTargetAsync(request, server, ct);
        var dataDir = Path.GetFullPath(request.Pitr.DataDirectory);
        var dataDirExisted = Directory.Exists(dataDir);
        // Only a directory the recovery may write into is ever stopped or emptied here (it refuses any other).
        var ours = !File.Exists(dataDir) && (!dataDirExisted || !Directory.EnumerateFileSystemEntries(dataDir).Any());
        var sockets = CreateSocketDirectory();
        var work = Path.Combine(WorkDirectory.Create(database.Value), $"pitr-{Guid.NewGuid():N}");
        try
        {
            LogRecovering(logger, request.SourceDatabase, PitrPlanner.Show(request.Pitr.Target), request.Target, $"{server.Host}:{server.Port}");
            var pitr = await restorer.RunAsync(request.Pitr with { Start = true, PrivateSocketDirectory = sockets, Port = request.Pitr.Port ?? PrivatePort }, ct);
            // From the store recovered from: after losing the primary, a copy's recovery must not need it.
            var from = request.Pitr.Source == BackupSource.Primary ? bases : new BaseBackupCatalog(restorer.PlannerOf(request.Pitr.Source).Store);
            var meta = (await from.ListAsync(ct)).FirstOrDefault(b => b.Name == pitr.BaseBackup)?.Metadata
                ?? throw new NotFoundException($"base backup {pitr.BaseBackup} vanished from the store during the recovery");
            var store = new FilesystemStore(work);
            BackupMetadata dumped;
            ulong? replayed;
            try
            {
                var source = await ConnectAsync(meta, sockets, request.Pitr.Port ?? PrivatePort, request.SourceDatabase, server, ct);
                replayed = await ReplayedAsync(source, pitr.BaseNextXid, ct);
                var runner = new FullBackupRunner(store, new BackupCatalog(store), anomalies, tools, connections, backup, clock, NullLogger<FullBackupRunner>.Instance);
                dumped = (await runner.RunAsync(source, null, ct)).Metadata;
            }
            finally
            {
                // Stopped before the restore: nothing reads the copy after its dump, and the machine's memory goes to the restore.
                await StopQuietlyAsync(dataDir);
            }
            var entry = await new BackupCatalog(store).FindAsync(dumped.Name, ct);
            var plan = await RestoreRunner.PlanAsync(entry, store, request.Target, request.DropExisting, server, ct);
            var restored = await restores.ExecuteAsync(plan, new StoredBackup(store, entry), Stopwatch.StartNew(), ct, beforeSwap, server);
            LogCopied(logger, request.SourceDatabase, request.Target, PitrPlanner.Show(pitr.RecoveredTo ?? request.Pitr.Target), started.Elapsed.TotalSeconds);
            return new PitrIntoResult(pitr, restored with { Backup = $"{request.SourceDatabase} recovered to {PitrPlanner.Show(pitr.RecoveredTo ?? request.Pitr.Target)}" },
                request.SourceDatabase, replayed, dumped.Facts, request.KeepDataDirectory, Math.Round(started.Elapsed.TotalSeconds, 3));
        }
        finally
        {
            if (ours)
            {
                // Also after a failed or timed-out recovery, which may leave the server running.
                await StopQuietlyAsync(dataDir);
                if (!request.KeepDataDirectory)
                {
                    RemoveQuietly(dataDir, dataDirExisted);
                }
            }
            RemoveQuietly(work, existed: false);
            RemoveQuietly(sockets, existed: false);
        }
    }

    /// <summary>
    /// Logs in over the private socket (trusted there) as the cluster's bootstrap superuser as recorded with the
    /// base backup; for an older base backup without it, as the destination's admin or postgres, if the copy has that role.
    /// </summary>
    private static async Task<NpgsqlConnectionStringBuilder> ConnectAsync(
        BaseBackupMetadata meta, string sockets, int port, string databaseName, NpgsqlConnectionStringBuilder destination, CancellationToken ct)
    {
        var candidates = new[] { meta.BootstrapSuperuser, destination.Username, "postgres" }.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        foreach (var user in candidates)
        {
            var builder = new NpgsqlConnectionStringBuilder { Host = sockets, Port = port, Username = user, Database = "postgres", Pooling = false, Timeout = 30 };
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(ct);
                await using var exists = new NpgsqlCommand("SELECT datallowconn FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = databaseName } } };
                if (await exists.ExecuteScalarAsync(ct) is not bool allowed)
                {
                    await using var names = new NpgsqlCommand("SELECT string_agg(quote_ident(datname), ', ' ORDER BY datname) FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres'", connection);
                    throw new NotFoundException($"database '{databaseName}' does not exist in the recovered cluster; it holds: {await names.ExecuteScalarAsync(ct) as string ?? "no application database"}");
                }
                if (!allowed)
                {
                    throw new RefusedException($"database '{databaseName}' in the recovered cluster does not allow connections");
                }
                return new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = databaseName };
            }
            catch (PostgresException e) when (e.SqlState == "28000")
            {
                // No such role in the copy: the next candidate.
            }
        }
        throw new ConfigurationException($"cannot log in to the recovered cluster: none of {string.Join(", ", candidates.Select(c => $"'{c}'"))} is a role in it (take a new base backup: it records the cluster's superuser)");
    }

    /// <summary>How many transaction ids were assigned between the base backup's checkpoint and the recovery target.</summary>
    private static async Task<ulong?> ReplayedAsync(NpgsqlConnectionStringBuilder source, ulong? baseNextXid, CancellationToken ct)
    {
        if (baseNextXid is not { } start)
        {
            return null;
        }
        await using var connection = new NpgsqlConnection(source.ConnectionString);
        await connection.OpenAsync(ct);
        // xmax of the current snapshot: the next id, not assigned; reading it assigns none.
        await using var command = new NpgsqlCommand("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", connection);
        var next = ulong.Parse((string)(await command.ExecuteScalarAsync(ct))!, CultureInfo.InvariantCulture);
        return next >= start ? next - start : null;
    }

    private static string CreateSocketDirectory()
    {
        // Short, under /tmp: a Unix socket path must fit in 107 bytes, and the server's user must reach it.
        var dir = Path.Combine(Path.GetTempPath(), $"floyo-pitr-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }

    private async Task StopQuietlyAsync(string dataDir)
    {
        try
        {
            await restorer.StopAsync(dataDir, CancellationToken.None);
        }
        catch (Exception e) when (e is RecoveryException or IOException or UnauthorizedAccessException)
        {
            LogNotStopped(logger, dataDir, e.Message);
        }
    }

    private static void RemoveQuietly(string path, bool existed)
    {
        try
        {
            if (!Directory.Exists(path))
            {
                return;
            }
            if (!existed)
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo directory)
                {
                    directory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort; the result (or the failure being reported) says what happened.
        }
    }

    [LoggerMessage(EventId = 9100, Level = LogLevel.Information, Message = "Recovering {Database} to {Target} and copying it into {TargetDatabase} on {Server}")]
    private static partial void LogRecovering(ILogger logger, string database, string target, string targetDatabase, string server);

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Copied {Database} as recovered to {RecoveredTo} into {TargetDatabase} in {Seconds:F1} s")]
    private static partial void LogCopied(ILogger logger, string database, string targetDatabase, string recoveredTo, double seconds);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Warning, Message = "The recovered server in {DataDir} could not be stopped: {Reason}")]
    private static partial void LogNotStopped(ILogger logger, string dataDir, string reason);
}
