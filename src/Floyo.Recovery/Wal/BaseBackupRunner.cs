using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Compression;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>
/// Takes a base backup with pg_basebackup (tar, with its manifest; the WAL comes from the archive), zstd at
/// BASE_BACKUP_COMPRESSION_LEVEL, SHA-256, into the store. From PostgreSQL 15 the server compresses
/// (<see cref="ServerCompressedBaseBackup"/>); otherwise (or BASE_BACKUP_COMPRESSION_SIDE=client)
/// <c>pg_basebackup -Ft -D -</c> streams the tar here, compressed in this process, while a tar-header walker
/// over the same chunks keeps backup_label and backup_manifest, which give the start and stop WAL locations.
/// The metadata is committed last, so an interrupted base backup never appears. With BASE_BACKUP_DATA_DIR (floyo-dr on
/// the database host) the data directory is read directly instead (<see cref="DataDirectoryBaseBackup"/>), same format.
/// </summary>
public sealed partial class BaseBackupRunner(
    IBackupStore store,
    PgTools tools,
    DatabaseConnections connections,
    IOptions<BackupOptions> backup,
    IOptions<WalOptions> wal,
    TimeProvider clock,
    ILogger<BaseBackupRunner> logger)
{
    private const int ChunkSize = 1 << 20;
    private const int ReadAhead = 4;

    private static readonly IReadOnlySet<string> LabelFiles = new HashSet<string>(StringComparer.Ordinal) { "backup_label", "backup_manifest" };

    public async Task<BaseBackupMetadata> RunAsync(CancellationToken ct)
    {
        var source = await connections.DatabaseAsync(ct);
        var started = Stopwatch.StartNew();
        // With BASE_BACKUP_DATA_DIR this connection is also the backup's session (the identity checks, pg_backup_start, the copy,
        // pg_backup_stop): one login and one set of checks, not two. Disposed on any failure, which aborts the backup on the server.
        // Every query on it reads text, booleans or integers (LSNs as text): the server's type catalogue is not loaded.
        await using var connection = await PgConnector.OpenAsync(source, ct, builtInTypesOnly: true);
        var direct = wal.Value.DirectDataDirectory;
        if (direct is null)
        {
            await tools.EnsureCompatibleAsync("pg_basebackup", connection.PostgreSqlVersion.Major * 10000, ct);
        }
        var serverVersion = connection.PostgreSqlVersion.ToString();
        var serverMajor = connection.PostgreSqlVersion.Major;
        var archiveMode = await ScalarAsync(connection, "SELECT current_setting('archive_mode')", ct);
        // In pull mode (WAL_RECEIVE_SLOT) the slot, not archive_command, brings the WAL to the archive.
        if (archiveMode == "off" && string.IsNullOrWhiteSpace(wal.Value.ReceiveSlot))
        {
            throw new RecoveryException("archive_mode is off on the server: a base backup is only recoverable with its WAL archived; set archive_mode = on and archive_command = 'floyo-dr wal push %p' first (or pull it: WAL_RECEIVE_SLOT and 'floyo-dr wal receive')");
        }
        if (!string.IsNullOrWhiteSpace(wal.Value.ReceiveSlot))
        {
            // The slot must hold the server's WAL from before the backup starts, or the backup could never become consistent.
            await WalReceiver.EnsureSlotAsync(connection, wal.Value.ReceiveSlot, ct);
        }
        var segmentSize = long.Parse(await ScalarAsync(connection, "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'", ct), CultureInfo.InvariantCulture);
        var systemId = await TryScalarAsync(connection, "SELECT system_identifier::text FROM pg_control_system()", ct);
        var bootstrapSuperuser = await TryScalarAsync(connection, "SELECT rolname::text FROM pg_roles WHERE oid = 10", ct);
        if (direct is null)
        {
            // pg_basebackup logs in by itself: no idle session held open for the whole copy.
            await connection.DisposeAsync();
        }

        var now = clock.GetUtcNow();
        var name = $"{BaseBackupMetadata.Folder}base_{now.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}{BaseBackupCatalog.Extension}";
        var retainUntil = now.AddDays(backup.Value.RetentionDays);
        LogStarting(logger, DatabaseUrl.Describe(source), name, store.Location);

        await using var writer = await store.CreateAsync(name, new ObjectRetention(retainUntil), ct);
        var level = wal.Value.BaseBackupCompressionLevel;
        var workers = Math.Max(1, Environment.ProcessorCount);
        // The server compresses from PostgreSQL 15 on (pg_basebackup's server-zstd); before, or when told so, this process does.
        // With BASE_BACKUP_DATA_DIR this process reads the data directory itself and compresses, with no pg_basebackup at all.
        var onServer = direct is null && wal.Value.BaseBackupCompressionSide == WalOptions.ServerSide && serverMajor >= 15;
        LogCompressing(logger, onServer ? "the server" : "floyo-dr", level);
        var (tarBytes, storedBytes, sha256, files) = direct is not null
            ? await new DataDirectoryBaseBackup(direct, TimeSpan.FromSeconds(Math.Max(1, wal.Value.ArchiveWaitSeconds)), wal.Value.BaseBackupZstd(), logger).StreamAsync(connection, archiveMode != "off", $"floyo-dr {name}", level, workers, writer.Stream, ct)
            : onServer
            ? await new ServerCompressedBaseBackup(tools, logger).StreamOrFallBackAsync(source, $"floyo-dr {name}", level, workers, writer.Stream, () => StreamAsync(source, name, level, workers, writer.Stream, ct), ct)
            : await StreamAsync(source, name, level, workers, writer.Stream, ct);
        var label = files.GetValueOrDefault("backup_label") ?? throw new RecoveryException("pg_basebackup's output has no backup_label: it is not a base backup");
        var manifest = files.GetValueOrDefault("backup_manifest");
        var (startLsn, startFile, timeline, startTime) = ParseLabel(label);
        var stopLsn = manifest is null ? null : StopLsnOf(manifest);
        var stopTime = clock.GetUtcNow();
        await writer.CommitAsync(ct);

        var metadata = new BaseBackupMetadata(BaseBackupMetadata.CurrentFormat, name, startTime, stopTime, startLsn, stopLsn ?? startLsn, timeline, startFile,
            segmentSize, $"{source.Host}:{source.Port}", serverVersion, systemId, storedBytes, tarBytes, "zstd", sha256, manifest is not null,
            Math.Round(started.Elapsed.TotalSeconds, 3), retainUntil, bootstrapSuperuser);
        await store.WriteAllAsync(BaseBackupCatalog.MetadataOf(name), metadata.ToJson(), new ObjectRetention(retainUntil), ct);
        LogFinished(logger, name, storedBytes, started.Elapsed.TotalSeconds);
        DrMetrics.RecordBackup(source.Database ?? "", "base", started.Elapsed, storedBytes, tarBytes);
        return metadata;
    }

    private async Task<(long TarBytes, long StoredBytes, string Sha256, IReadOnlyDictionary<string, string> Files)> StreamAsync(
        Npgsql.NpgsqlConnectionStringBuilder source, string name, int level, int workers, Stream destination, CancellationToken ct)
    {
        string[] arguments = ["--format=tar", "--pgdata=-", "--wal-method=none", "--checkpoint=fast", "--no-password", $"--label=floyo-dr {name}"];
        using var process = Process.Start(tools.StartInfo("pg_basebackup", arguments, source))
            ?? throw new RecoveryException("could not start pg_basebackup");
        var stderr = StderrTail.CollectAsync(process.StandardError, ct);
        var hashing = new HashingStream(destination);
        var walker = new BaseBackupTarWalker(LabelFiles);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long tarBytes = 0;
        var frame = ZstdFrameWriter.Create(hashing, level, workers, parameters: wal.Value.BaseBackupZstd());
        LogClientEngine(logger, frame.Engine);
        // A reader task keeps pg_basebackup's pipe drained while a chunk is being compressed.
        var chunks = Channel.CreateBounded<(byte[] Buffer, int Length)>(ReadAhead);
        var reading = ReadChunksAsync(process.StandardOutput.BaseStream, chunks.Writer, stop.Token);
        try
        {
            await using (frame)
            {
                await foreach (var (buffer, length) in chunks.Reader.ReadAllAsync(stop.Token))
                {
                    walker.Append(buffer.AsSpan(0, length));
                    await frame.WriteAsync(buffer.AsMemory(0, length), stop.Token);
                    tarBytes += length;
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                await reading;
                await frame.FinishAsync(stop.Token);
            }
            await process.WaitForExitAsync(ct);
        }
        catch
        {
            await stop.CancelAsync();
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await Task.WhenAny(reading);
            throw;
        }
        var errors = await stderr;
        if (process.ExitCode != 0)
        {
            throw new RecoveryException($"pg_basebackup failed (exit {process.ExitCode}): {StderrTail.Summary(errors)}");
        }
        return (tarBytes, hashing.BytesWritten, hashing.HexDigest(), walker.Files);
    }

    /// <summary>Reads pg_basebackup's stdout in full chunks (a pipe gives 64 KiB a read), so compression sees few, large writes.</summary>
    private static async Task ReadChunksAsync(Stream input, ChannelWriter<(byte[] Buffer, int Length)> chunks, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                var length = 0;
                int read;
                while (length < ChunkSize && (read = await input.ReadAsync(buffer.AsMemory(length, ChunkSize - length), ct)) > 0)
                {
                    length += read;
                }
                if (length == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }
                await chunks.WriteAsync((buffer, length), ct);
                if (length < ChunkSize)
                {
                    break;
                }
            }
            chunks.Complete();
        }
        catch (Exception e)
        {
            chunks.Complete(e);
        }
    }

    internal static (string StartLsn, string StartFile, uint Timeline, DateTimeOffset StartTime) ParseLabel(string label)
    {
        var location = StartLocation().Match(label);
        var timeline = StartTimeline().Match(label);
        var time = StartTimeLine().Match(label);
        if (!location.Success || !timeline.Success || !time.Success)
        {
            throw new RecoveryException("the base backup's backup_label lacks START WAL LOCATION, START TIMELINE or START TIME");
        }
        // START TIME is written as "2026-11-30 21:30:00 UTC" (the server's log_timezone abbreviation).
        var startTime = DateTimeOffset.TryParseExact(time.Groups[1].Value.Replace(" UTC", " +00:00", StringComparison.Ordinal), "yyyy-MM-dd HH:mm:ss zzz",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed.ToUniversalTime() : DateTimeOffset.MinValue;
        return (location.Groups[1].Value, location.Groups[2].Value, uint.Parse(timeline.Groups[1].Value, CultureInfo.InvariantCulture), startTime);
    }

    internal static string? StopLsnOf(string manifest)
    {
        using var document = JsonDocument.Parse(manifest);
        return document.RootElement.TryGetProperty("WAL-Ranges", out var ranges) && ranges.GetArrayLength() > 0
            ? ranges[ranges.GetArrayLength() - 1].GetProperty("End-LSN").GetString()
            : null;
    }

    private static async Task<string> ScalarAsync(Npgsql.NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync(ct))?.ToString() ?? "";
    }

    private static async Task<string?> TryScalarAsync(Npgsql.NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        try
        {
            return await ScalarAsync(connection, sql, ct);
        }
        catch (Npgsql.PostgresException)
        {
            // Not granted to this role: the identifier is informative only.
            return null;
        }
    }

    [GeneratedRegex(@"START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+) \(file ([0-9A-F]{24})\)")]
    private static partial Regex StartLocation();

    [GeneratedRegex(@"START TIMELINE: (\d+)")]
    private static partial Regex StartTimeline();

    [GeneratedRegex(@"START TIME: ([^\n]+)")]
    private static partial Regex StartTimeLine();

    [LoggerMessage(EventId = 7110, Level = LogLevel.Information, Message = "Base backup of {Server} as {Name} into {Store}")]
    private static partial void LogStarting(ILogger logger, string server, string name, string store);

    [LoggerMessage(EventId = 7250, Level = LogLevel.Debug, Message = "Base backup compressed by {Side} at zstd level {Level}")]
    private static partial void LogCompressing(ILogger logger, string side, int level);

    [LoggerMessage(EventId = 7251, Level = LogLevel.Debug, Message = "Base backup compressed here with {Engine}")]
    private static partial void LogClientEngine(ILogger logger, string engine);

    [LoggerMessage(EventId = 7111, Level = LogLevel.Information, Message = "Base backup {Name} committed: {Bytes} bytes in {Seconds:F1} s")]
    private static partial void LogFinished(ILogger logger, string name, long bytes, double seconds);
}
