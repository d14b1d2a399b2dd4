using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZstdSharp;

namespace Floyo.Recovery.Wal;

/// <param name="KeepArchiving">The recovered server becomes the primary: keep the base backup's archive settings, so its new timeline (history file first) is archived.</param>
/// <param name="PrivateSocketDirectory">
/// The recovered server listens on no TCP address, only on a Unix socket in this owner-only folder, and trusts the
/// connections made there (through an hba file of its own, the copy's pg_hba.conf untouched): a copy that floyo-dr
/// reads from and nobody else can reach. <see cref="PitrRestorer.StopAsync"/> removes these settings again.
/// </param>
/// <param name="Source">
/// Which copy's base backups and WAL archive to recover from (restore's --source): the restore_command then fetches
/// from that copy too, so a PITR runs when the primary store is gone.
/// </param>
public sealed record PitrRequest(DateTimeOffset Target, string DataDirectory, int? Port, bool Start, bool KeepArchiving = false, string? PrivateSocketDirectory = null,
    BackupSource Source = BackupSource.Primary);

/// <param name="BaseNextXid">The next transaction id at the base backup's checkpoint (pg_controldata): transactions after it were replayed from the archive.</param>
public sealed record PitrResult(
    string BaseBackup, string DataDirectory, DateTimeOffset Target, bool Started, DateTimeOffset? RecoveredTo, string? StoppedAt, bool ManifestVerified, double DurationSeconds,
    ulong? BaseNextXid = null);

/// <summary>
/// Point-in-time recovery into an empty data directory: the chosen base backup is unpacked (its SHA-256
/// checked on the way, pg_verifybackup run on its manifest), recovery settings are written (restore_command
/// through <c>floyo-dr wal fetch</c>, the target time, promote) and, when asked, the server is started and
/// followed until recovery ends. The plan is made, and every refusal given, before anything is written.
/// </summary>
public sealed partial class PitrRestorer(
    PitrPlanner planner,
    IBackupStore store,
    PgTools tools,
    IOptions<WalOptions> wal,
    IOptions<BackupOptions> backup,
    IOptions<BlobStoreOptions> blob,
    BackupStores stores,
    TimeProvider clock,
    ILogger<PitrRestorer> logger)
{
    private const string ServerUser = "postgres";

    public async Task<PitrResult> RunAsync(PitrRequest request, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var dataDir = Path.GetFullPath(request.DataDirectory);
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new RefusedException($"--data-dir {dataDir} is not empty; point-in-time recovery only writes into an empty or new directory; nothing was changed");
        }
        if (File.Exists(dataDir))
        {
            throw new UsageException($"--data-dir {dataDir} is a file; nothing was changed");
        }
        var restoreCommand = RestoreCommand(request.Source);
        var (from, sourcePlanner) = request.Source == BackupSource.Primary ? (store, planner) : CopyPlanner(request.Source);
        var plan = await sourcePlanner.PlanAsync(request.Target, ct);
        var major = int.Parse(plan.Base.Metadata.ServerVersion.Split('.')[0], CultureInfo.InvariantCulture);
        var pgCtl = request.Start ? ServerTool("pg_ctl", major) : null;
        LogRestoring(logger, plan.Base.Name, PitrPlanner.Show(request.Target), dataDir);

        var created = !Directory.Exists(dataDir);
        Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        bool manifestVerified;
        ulong? baseNextXid;
        try
        {
            await UnpackAsync(from, plan.Base, dataDir, ct);
            manifestVerified = await VerifyManifestAsync(plan.Base, dataDir, major, ct);
            baseNextXid = await NextXidAsync(dataDir, major, ct);
            await WriteRecoverySettingsAsync(dataDir, restoreCommand, request, ct);
            Directory.CreateDirectory(Path.Combine(dataDir, "log"));
            await HandToServerUserAsync(dataDir, ct);
            if (request.PrivateSocketDirectory is { } sockets)
            {
                await HandToServerUserAsync(sockets, ct);
            }
        }
        catch
        {
            // Nothing half-restored is left to be started by mistake.
            Empty(dataDir, remove: created);
            throw;
        }
        if (!request.Start)
        {
            return new PitrResult(plan.Base.Name, dataDir, request.Target, false, null, null, manifestVerified, Math.Round(started.Elapsed.TotalSeconds, 3), baseNextXid);
        }
        var (recoveredTo, stoppedAt) = await StartAndFollowAsync(pgCtl!, dataDir, ct);
        WalPrefetcher.RemoveSpool(dataDir);
        DrMetrics.RecordRestore("(cluster)", "pitr", started.Elapsed);
        return new PitrResult(plan.Base.Name, dataDir, request.Target, true, recoveredTo, stoppedAt, manifestVerified, Math.Round(started.Elapsed.TotalSeconds, 3), baseNextXid);
    }

    /// <summary>Whether this machine can run a recovered server (pg_ctl of <paramref name="major"/>): drills fall back to the dump where it cannot.</summary>
    public bool CanStartServer(int major)
    {
        try
        {
            ServerTool("pg_ctl", major);
            return true;
        }
        catch (RecoveryException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops a server this restorer started (fast shutdown: a clean checkpoint) and takes the private-access
    /// settings out of the copy, so a kept data directory starts later as an ordinary recovered cluster.
    /// </summary>
    public async Task StopAsync(string dataDir, CancellationToken ct)
    {
        dataDir = Path.GetFullPath(dataDir);
        if (File.Exists(Path.Combine(dataDir, "postmaster.pid")))
        {
            var major = int.Parse((await File.ReadAllTextAsync(Path.Combine(dataDir, "PG_VERSION"), ct)).Trim(), CultureInfo.InvariantCulture);
            var stop = await RunAsync(ServerTool("pg_ctl", major), ["-D", dataDir, "-m", "fast", "-w", "-t", "120", "stop"], asServerUser: true, ct);
            if (stop.ExitCode != 0)
            {
                throw new RecoveryException($"pg_ctl stop failed for the recovered server in {dataDir}: {StderrTail.Summary(stop.StdErr + stop.StdOut)}");
            }
        }
        var auto = Path.Combine(dataDir, "postgresql.auto.conf");
        if (File.Exists(auto))
        {
            var text = await File.ReadAllTextAsync(auto, ct);
            var start = text.IndexOf(PrivateBegin, StringComparison.Ordinal);
            var end = text.IndexOf(PrivateEnd, StringComparison.Ordinal);
            if (start >= 0 && end > start)
            {
                // Rewritten in place: the file keeps its owner (the server's user).
                await File.WriteAllTextAsync(auto, text[..start] + text[(end + PrivateEnd.Length)..].TrimStart('\n'), ct);
            }
        }
        File.Delete(Path.Combine(dataDir, PrivateHbaFile));
    }

    /// <summary>The store and planner a recovery from <paramref name="source"/> reads: the primary's, or a further copy's alone.</summary>
    internal (IBackupStore Store, PitrPlanner Planner) PlannerOf(BackupSource source) =>
        source == BackupSource.Primary ? (store, planner) : CopyPlanner(source);

    /// <summary>The planner over a further copy's base backups and WAL archive (the primary store is not touched).</summary>
    private (IBackupStore Store, PitrPlanner Planner) CopyPlanner(BackupSource source)
    {
        var copy = stores.For(source);
        var archive = new WalArchive(copy, backup, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<WalArchive>.Instance);
        var bases = new BaseBackupCatalog(copy);
        return (copy, new PitrPlanner(bases, archive, new WalContinuity(archive, bases), clock));
    }

    /// <summary>
    /// The restore_command the recovered server runs; refused before anything is written when it would need a secret in
    /// the data directory. From a further copy it fetches with <c>--source</c>: FLOYO_DR_COMMAND's wrapper must then carry
    /// that copy's settings; without one, they are written inline like the primary's.
    /// </summary>
    internal string RestoreCommand(BackupSource source = BackupSource.Primary)
    {
        string invoke;
        if (!string.IsNullOrWhiteSpace(wal.Value.Command))
        {
            invoke = wal.Value.Command.Trim();
        }
        else if (source != BackupSource.Primary)
        {
            var copy = stores.SettingsOf(source);
            var settings = copy.Kind switch
            {
                StoreKind.Filesystem => $"{copy.Prefix}_STORE=filesystem {copy.Prefix}_DIR={Quote(Path.GetFullPath(copy.Directory!))}",
                StoreKind.Blob when string.IsNullOrEmpty(copy.ConnectionString) && !string.IsNullOrEmpty(copy.ServiceUri) =>
                    $"{copy.Prefix}_STORE=blob {copy.Prefix}_BLOB_SERVICE_URI={Quote(copy.ServiceUri)} {copy.Prefix}_BLOB_CONTAINER={Quote(copy.Container)}",
                StoreKind.Blob => throw new ConfigurationException($"the {BackupStores.Ordinal(source)} copy's settings include a secret ({copy.Prefix}_BLOB_CONNECTION_STRING), which is never written into a data directory: set FLOYO_DR_COMMAND to a wrapper that runs floyo-dr with its settings; nothing was changed"),
                _ => throw new ConfigurationException($"no {BackupStores.Ordinal(source)} copy is configured: set {copy.Prefix}_STORE (blob or filesystem) and its {copy.Prefix}_* settings; nothing was changed"),
            };
            invoke = $"env {settings} {SelfCommand()}";
        }
        else
        {
            var settings = backup.Value.Kind switch
            {
                StoreKind.Filesystem => $"BACKUP_STORE=filesystem BACKUP_DIR={Quote(Path.GetFullPath(backup.Value.Directory))}",
                StoreKind.Blob when string.IsNullOrEmpty(blob.Value.ConnectionString) && !string.IsNullOrEmpty(blob.Value.ServiceUri) =>
                    $"BACKUP_STORE=blob BACKUP_BLOB_SERVICE_URI={Quote(blob.Value.ServiceUri)} BACKUP_BLOB_CONTAINER={Quote(blob.Value.Container)}",
                _ => throw new ConfigurationException("the store's settings include a secret (BACKUP_BLOB_CONNECTION_STRING), which is never written into a data directory: set FLOYO_DR_COMMAND to a wrapper that runs floyo-dr with its settings; nothing was changed"),
            };
            invoke = $"env {settings} {SelfCommand()}";
        }
        // A segment prefetched by an earlier fetch is taken with a plain mv (see WalPrefetcher); only a miss starts floyo-dr.
        var spooled = $"pg_wal/{WalPrefetcher.SpoolFolder}/%f";
        var from = source == BackupSource.Primary ? "" : $" --source {source.ToString().ToLowerInvariant()}";
        return $"if [ -f \"{spooled}\" ]; then mv -f \"{spooled}\" \"%p\"; else {invoke} wal fetch{from} \"%f\" \"%p\" --prefetch {wal.Value.PrefetchSegments}; fi";
    }

    private static string SelfCommand()
    {
        var process = Environment.ProcessPath ?? "floyo-dr";
        var entry = Assembly.GetEntryAssembly()?.Location;
        // Run as `dotnet floyo-dr.dll` (tests, a framework-dependent copy), the same again; else the apphost itself.
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && !string.IsNullOrEmpty(entry)
            ? $"{Quote(process)} {Quote(entry)}"
            : Quote(process);
    }

    private static string Quote(string value) => value.Contains('\'', StringComparison.Ordinal)
        ? throw new ConfigurationException($"'{value}' contains a single quote, which restore_command cannot carry; nothing was changed")
        : $"'{value}'";

    private static async Task UnpackAsync(IBackupStore store, BaseBackupEntry entry, string dataDir, CancellationToken ct)
    {
        await using var stored = await store.OpenReadAsync(entry.Name, ct);
        using var hashing = new HashingStream(stored);
        await using (var decompress = new DecompressionStream(hashing, leaveOpen: true))
        {
            // A server-compressed base backup is two tars in turn: the server's archive, then its manifest.
            for (Stream? archive = decompress; archive is not null; archive = await BaseBackupTarSequence.NextArchiveAsync(decompress, ct))
            {
                await using var reader = new TarReader(archive, leaveOpen: true);
                while (await reader.GetNextEntryAsync(copyData: false, ct) is { } item)
                {
                    var path = Path.GetFullPath(Path.Combine(dataDir, item.Name));
                    if (!path.StartsWith(dataDir + Path.DirectorySeparatorChar, StringComparison.Ordinal) && path != dataDir)
                    {
                        throw new RecoveryException($"{entry.Name} holds '{item.Name}', which points outside the data directory; it is not restored");
                    }
                    switch (item.EntryType)
                    {
                        case TarEntryType.Directory:
                            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                            break;
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                            await item.ExtractToFileAsync(path, overwrite: false, ct);
                            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                            break;
                        case TarEntryType.SymbolicLink:
                            throw new RecoveryException($"{entry.Name} holds a symbolic link ({item.Name}, a tablespace or a moved pg_wal), which this restore does not follow");
                        default:
                            break;
                    }
                }
            }
            await decompress.CopyToAsync(Stream.Null, ct);
        }
        await hashing.CopyToAsync(Stream.Null, ct);
        if (hashing.HexDigest() != entry.Metadata.Sha256)
        {
            throw new RecoveryException($"{entry.Name} does not match its recorded SHA-256: the stored base backup is damaged; nothing was kept");
        }
    }

    private async Task<bool> VerifyManifestAsync(BaseBackupEntry entry, string dataDir, int major, CancellationToken ct)
    {
        if (!entry.Metadata.HasManifest || !File.Exists(Path.Combine(dataDir, "backup_manifest")))
        {
            return false;
        }
        var tool = ServerTool("pg_verifybackup", major);
        // WAL is checked by recovery itself, from the archive; here the files are proven against the manifest.
        var result = await RunAsync(tool, ["--no-parse-wal", "--quiet", dataDir], asServerUser: false, ct);
        if (result.ExitCode != 0)
        {
            throw new RecoveryException($"pg_verifybackup found {entry.Name} damaged: {StderrTail.Summary(result.StdErr)}; nothing was kept");
        }
        return true;
    }

    private const string PrivateBegin = "# floyo-dr private access (removed when floyo-dr stops the copy)";
    private const string PrivateEnd = "# end of floyo-dr private access\n";
    private const string PrivateHbaFile = "floyo-pitr-hba.conf";

    /// <summary>The base backup's "Latest checkpoint's NextXID" (epoch:xid) as a full transaction id; null when pg_controldata cannot say.</summary>
    private async Task<ulong?> NextXidAsync(string dataDir, int major, CancellationToken ct)
    {
        string tool;
        try
        {
            tool = ServerTool("pg_controldata", major);
        }
        catch (RecoveryException)
        {
            return null;
        }
        var result = await RunAsync(tool, ["-D", dataDir], asServerUser: false, ct);
        var match = NextXidLine().Match(result.StdOut);
        return result.ExitCode == 0 && match.Success
            ? (ulong.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) << 32) | ulong.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)
            : null;
    }

    private static async Task WriteRecoverySettingsAsync(string dataDir, string restoreCommand, PitrRequest request, CancellationToken ct)
    {
        var settings = new StringBuilder()
            .AppendLine()
            .AppendLine("# floyo-dr restore --pitr")
            .AppendLine(CultureInfo.InvariantCulture, $"restore_command = '{restoreCommand.Replace("'", "''", StringComparison.Ordinal)}'")
            .AppendLine(CultureInfo.InvariantCulture, $"recovery_target_time = '{request.Target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}+00'")
            .AppendLine("recovery_target_action = 'promote'")
            .AppendLine("recovery_target_timeline = 'latest'");
        if (!request.KeepArchiving)
        {
            // A recovered copy (a drill, a look at the past) never archives into the archive it was recovered from:
            // its timeline would become the "latest" of every later recovery. --archive says it is the new primary.
            settings.AppendLine("archive_mode = 'off'");
        }
        if (request.Port is { } port)
        {
            settings.AppendLine(CultureInfo.InvariantCulture, $"port = {port}");
        }
        if (request.PrivateSocketDirectory is { } sockets)
        {
            var hba = Path.Combine(dataDir, PrivateHbaFile);
            // Only the server's OS user (and root) can enter the socket folder; TCP is off: trust reaches no one else.
            await File.WriteAllTextAsync(hba, "local all all trust\n", ct);
            settings.AppendLine(PrivateBegin)
                .AppendLine("listen_addresses = ''")
                .AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = '{sockets.Replace("'", "''", StringComparison.Ordinal)}'")
                .AppendLine(CultureInfo.InvariantCulture, $"hba_file = '{hba.Replace("'", "''", StringComparison.Ordinal)}'")
                .Append(PrivateEnd);
        }
        await File.AppendAllTextAsync(Path.Combine(dataDir, "postgresql.auto.conf"), settings.ToString(), ct);
        await File.WriteAllTextAsync(Path.Combine(dataDir, "recovery.signal"), "", ct);
        File.Delete(Path.Combine(dataDir, "standby.signal"));
    }

    /// <summary>The server refuses to run as root: when we are root, the data directory becomes the postgres user's.</summary>
    private async Task HandToServerUserAsync(string dataDir, CancellationToken ct)
    {
        if (Environment.UserName != "root")
        {
            return;
        }
        var result = await RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", dataDir], asServerUser: false, ct);
        if (result.ExitCode != 0)
        {
            throw new RecoveryException($"could not give {dataDir} to the {ServerUser} user: {StderrTail.Summary(result.StdErr)}");
        }
    }

    private async Task<(DateTimeOffset? RecoveredTo, string? StoppedAt)> StartAndFollowAsync(string pgCtl, string dataDir, CancellationToken ct)
    {
        var log = Path.Combine(dataDir, "log", "floyo-pitr.log");
        var start = await RunAsync(pgCtl, ["-D", dataDir, "-l", log, "-W", "start"], asServerUser: true, ct);
        if (start.ExitCode != 0)
        {
            throw new RecoveryException($"pg_ctl start failed: {StderrTail.Summary(start.StdErr + start.StdOut)}");
        }
        var deadline = Stopwatch.StartNew();
        var signal = Path.Combine(dataDir, "recovery.signal");
        var from = 0;
        string? shortArchive = null;
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            var text = File.Exists(log) ? await File.ReadAllTextAsync(log, ct) : "";
            if (FatalLine().Match(text, Math.Min(from, text.Length)) is { Success: true } fatal)
            {
                if (shortArchive is null && fatal.Groups[1].Value.Contains("recovery ended before configured recovery target was reached", StringComparison.Ordinal))
                {
                    // The planner proved the archive continuous to at least the target, so the archived WAL simply holds no
                    // commit after it: every archived transaction is before the target, and replaying all of them is the
                    // state at the target. PostgreSQL stops there rather than guess; recovery resumes without the target.
                    shortArchive = "at the end of the archived WAL: no archived transaction is later than the target";
                    from = text.Length;
                    await RestartWithoutTargetAsync(pgCtl, dataDir, log, ct);
                    continue;
                }
                throw new RecoveryException($"recovery failed: {fatal.Groups[1].Value.Trim()} (server log {log})");
            }
            if (!File.Exists(signal) && text.IndexOf("database system is ready to accept connections", Math.Min(from, text.Length), StringComparison.Ordinal) >= 0)
            {
                var last = LastTransaction().Matches(text).LastOrDefault();
                var stop = StoppingLine().Match(text);
                return (last is null ? null : ParseLogTime(last.Groups[1].Value), stop.Success ? stop.Groups[1].Value.Trim() : shortArchive);
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(wal.Value.RecoveryTimeoutSeconds))
            {
                throw new RecoveryException($"recovery did not end within {wal.Value.RecoveryTimeoutSeconds} s (PITR_TIMEOUT_SECONDS); the server still runs on {dataDir}, see {log}");
            }
        }
    }

    /// <summary>Waits for the server to finish shutting down after its FATAL, takes recovery_target_time out, and starts it again (recovery.signal is still there).</summary>
    private static async Task RestartWithoutTargetAsync(string pgCtl, string dataDir, string log, CancellationToken ct)
    {
        var pid = Path.Combine(dataDir, "postmaster.pid");
        var waited = Stopwatch.StartNew();
        while (File.Exists(pid))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new RecoveryException($"the recovered server did not shut down after 'recovery ended before configured recovery target was reached' (server log {log})");
            }
            await Task.Delay(200, ct);
        }
        var auto = Path.Combine(dataDir, "postgresql.auto.conf");
        var lines = (await File.ReadAllLinesAsync(auto, ct)).Where(l => !l.StartsWith("recovery_target_time", StringComparison.Ordinal));
        await File.WriteAllLinesAsync(auto, lines, ct);
        var start = await RunAsync(pgCtl, ["-D", dataDir, "-l", log, "-W", "start"], asServerUser: true, ct);
        if (start.ExitCode != 0)
        {
            throw new RecoveryException($"pg_ctl start (to finish recovery at the end of the archive) failed: {StderrTail.Summary(start.StdErr + start.StdOut)}");
        }
    }

    private static DateTimeOffset? ParseLogTime(string value)
    {
        // "2026-11-30 21:55:00.123456+00": PostgreSQL's timestamptz output in the server's log_timezone.
        var normalized = Regex.Replace(value.Trim(), @"([+-]\d\d)$", "$1:00");
        return DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed.ToUniversalTime() : null;
    }

    /// <summary>A server program (pg_ctl, pg_verifybackup): PG_BIN_DIR, PATH, or the Debian/Ubuntu location of the backup's major version.</summary>
    private string ServerTool(string tool, int major)
    {
        try
        {
            return tools.Locate(tool);
        }
        catch (RecoveryException)
        {
            var debian = $"/usr/lib/postgresql/{major}/bin/{tool}";
            return File.Exists(debian)
                ? debian
                : throw new RecoveryException($"{tool} not found in PG_BIN_DIR, on PATH or in /usr/lib/postgresql/{major}/bin: install the PostgreSQL {major} server; nothing was changed");
        }
    }

    private static async Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, bool asServerUser, CancellationToken ct)
    {
        var asRoot = asServerUser && Environment.UserName == "root";
        var info = new ProcessStartInfo(asRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The server user may not be able to enter our working directory.
            WorkingDirectory = "/",
        };
        if (asRoot)
        {
            foreach (var argument in new[] { "-u", ServerUser, "--", program })
            {
                info.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info) ?? throw new RecoveryException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    private static void Empty(string dataDir, bool remove)
    {
        try
        {
            if (remove)
            {
                Directory.Delete(dataDir, recursive: true);
                return;
            }
            foreach (var entry in new DirectoryInfo(dataDir).EnumerateFileSystemInfos())
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
        catch (IOException)
        {
            // Best effort; the error that brought us here is the one reported.
        }
    }

    [GeneratedRegex(@"Latest checkpoint's NextXID:\s+(\d+):(\d+)")]
    private static partial Regex NextXidLine();

    [GeneratedRegex(@"(?:FATAL|PANIC):\s+([^\n]+)")]
    private static partial Regex FatalLine();

    [GeneratedRegex(@"last completed transaction was at log time ([^\n]+)")]
    private static partial Regex LastTransaction();

    [GeneratedRegex(@"recovery stopping ([^\n]+)")]
    private static partial Regex StoppingLine();

    [LoggerMessage(EventId = 7120, Level = LogLevel.Information, Message = "Point-in-time recovery from {BaseBackup} to {Target} into {DataDir}")]
    private static partial void LogRestoring(ILogger logger, string baseBackup, string target, string dataDir);
}
