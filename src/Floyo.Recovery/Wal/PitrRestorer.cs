using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZstdSharp;

namespace Floyo.Recovery.Wal;

/// <param name="KeepArchiving">The recovered server becomes the primary: keep the base backup's archive settings, so its new timeline (history file first) is archived.</param>
public sealed record PitrRequest(DateTimeOffset Target, string DataDirectory, int? Port, bool Start, bool KeepArchiving = false);

public sealed record PitrResult(
    string BaseBackup, string DataDirectory, DateTimeOffset Target, bool Started, DateTimeOffset? RecoveredTo, string? StoppedAt, bool ManifestVerified, double DurationSeconds);

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
        var restoreCommand = RestoreCommand();
        var plan = await planner.PlanAsync(request.Target, ct);
        var major = int.Parse(plan.Base.Metadata.ServerVersion.Split('.')[0], CultureInfo.InvariantCulture);
        var pgCtl = request.Start ? ServerTool("pg_ctl", major) : null;
        LogRestoring(logger, plan.Base.Name, PitrPlanner.Show(request.Target), dataDir);

        var created = !Directory.Exists(dataDir);
        Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        bool manifestVerified;
        try
        {
            await UnpackAsync(plan.Base, dataDir, ct);
            manifestVerified = await VerifyManifestAsync(plan.Base, dataDir, major, ct);
            await WriteRecoverySettingsAsync(dataDir, restoreCommand, request, ct);
            Directory.CreateDirectory(Path.Combine(dataDir, "log"));
            await HandToServerUserAsync(dataDir, ct);
        }
        catch
        {
            // Nothing half-restored is left to be started by mistake.
            Empty(dataDir, remove: created);
            throw;
        }
        if (!request.Start)
        {
            return new PitrResult(plan.Base.Name, dataDir, request.Target, false, null, null, manifestVerified, Math.Round(started.Elapsed.TotalSeconds, 3));
        }
        var (recoveredTo, stoppedAt) = await StartAndFollowAsync(pgCtl!, dataDir, ct);
        return new PitrResult(plan.Base.Name, dataDir, request.Target, true, recoveredTo, stoppedAt, manifestVerified, Math.Round(started.Elapsed.TotalSeconds, 3));
    }

    /// <summary>The restore_command the recovered server runs; refused before anything is written when it would need a secret in the data directory.</summary>
    internal string RestoreCommand()
    {
        string invoke;
        if (!string.IsNullOrWhiteSpace(wal.Value.Command))
        {
            invoke = wal.Value.Command.Trim();
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
        return $"{invoke} wal fetch \"%f\" \"%p\"";
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

    private async Task UnpackAsync(BaseBackupEntry entry, string dataDir, CancellationToken ct)
    {
        await using var stored = await store.OpenReadAsync(entry.Name, ct);
        using var hashing = new HashingStream(stored);
        await using (var decompress = new DecompressionStream(hashing, leaveOpen: true))
        {
            await using var reader = new TarReader(decompress, leaveOpen: true);
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
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            var text = File.Exists(log) ? await File.ReadAllTextAsync(log, ct) : "";
            if (FatalLine().Match(text) is { Success: true } fatal)
            {
                throw new RecoveryException($"recovery failed: {fatal.Groups[1].Value.Trim()} (server log {log})");
            }
            if (!File.Exists(signal) && text.Contains("database system is ready to accept connections", StringComparison.Ordinal))
            {
                var last = LastTransaction().Matches(text).LastOrDefault();
                var stop = StoppingLine().Match(text);
                return (last is null ? null : ParseLogTime(last.Groups[1].Value), stop.Success ? stop.Groups[1].Value.Trim() : null);
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(wal.Value.RecoveryTimeoutSeconds))
            {
                throw new RecoveryException($"recovery did not end within {wal.Value.RecoveryTimeoutSeconds} s (PITR_TIMEOUT_SECONDS); the server still runs on {dataDir}, see {log}");
            }
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

    [GeneratedRegex(@"(?:FATAL|PANIC):\s+([^\n]+)")]
    private static partial Regex FatalLine();

    [GeneratedRegex(@"last completed transaction was at log time ([^\n]+)")]
    private static partial Regex LastTransaction();

    [GeneratedRegex(@"recovery stopping ([^\n]+)")]
    private static partial Regex StoppingLine();

    [LoggerMessage(EventId = 7120, Level = LogLevel.Information, Message = "Point-in-time recovery from {BaseBackup} to {Target} into {DataDir}")]
    private static partial void LogRestoring(ILogger logger, string baseBackup, string target, string dataDir);
}
