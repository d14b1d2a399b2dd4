using System.Diagnostics;
using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Floyo.Recovery.Backups;

public sealed record BackupResult(BackupMetadata Metadata);

/// <summary>
/// Takes a full backup: pg_dump's custom-format output streams through zstd and SHA-256 straight into
/// the store (no temporary copy, bounded memory), while the same exported snapshot is used to count
/// every table's rows and record what a new server would need. The metadata is committed last, so a
/// backup interrupted at any point never appears in the catalog.
/// </summary>
public sealed partial class FullBackupRunner(
    IBackupStore store,
    BackupCatalog catalog,
    AnomalyDetector anomalyDetector,
    PgTools tools,
    DatabaseConnections connections,
    IOptions<BackupOptions> backup,
    TimeProvider clock,
    ILogger<FullBackupRunner> logger)
{
    private const int ChunkSize = 1 << 20;

    public async Task<BackupResult> RunAsync(IProgress<TransferProgress>? progress, CancellationToken ct) =>
        await RunAsync(await connections.DatabaseAsync(ct), progress, ct);

    /// <summary>A backup of <paramref name="source"/> rather than DATABASE_URL (a point-in-time recovered copy, on its way into a server).</summary>
    public async Task<BackupResult> RunAsync(NpgsqlConnectionStringBuilder source, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(source);
        var started = Stopwatch.StartNew();
        await using var connection = await PgConnector.OpenAsync(source, ct);
        var pgDumpVersion = await tools.EnsureCompatibleAsync("pg_dump", connection.PostgreSqlVersion.Major * 10000, ct);
        await AdminCapabilities.CheckCanDumpAsync(connection, ct);

        await using var dbLock = await store.LockAsync($"backup-{BackupName.Slug(source.Database!)}", TimeSpan.FromSeconds(backup.Value.LockWaitSeconds), ct);
        var (name, timestamp) = await ChooseNameAsync(source.Database!, ct);
        LogStarting(logger, name, DatabaseUrl.Describe(source), store.Location);

        // REPEATABLE READ pins one snapshot: pg_dump imports it, and our counts run inside it.
        await using var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await PgConnector.ExecuteAsync(connection, "SET TRANSACTION READ ONLY", ct);
        string snapshotId;
        await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", connection, snapshot))
        {
            snapshotId = (string)(await export.ExecuteScalarAsync(ct))!;
        }

        var retainUntil = timestamp.AddDays(backup.Value.RetentionDays);
        var compressed = backup.Value.Compression;
        await using var writer = await store.CreateAsync(name, new ObjectRetention(retainUntil), ct);
        // Sequences ignore the snapshot and only grow: read before pg_dump reads them, a restore can only be ahead.
        var sequences = await DatabaseInspector.ReadSequencesAsync(connection, ct);
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var dump = DumpAsync(source, snapshotId, compressed, writer.Stream, progress, failFast.Token);
        var facts = DatabaseInspector.CaptureAsync(connection, failFast.Token, sequences: sequences);
        await WhenBothAsync(dump, facts, failFast);
        var (dumpBytes, storedBytes, sha256) = await dump;
        var capturedFacts = await facts;
        await WithStoreErrors(() => writer.CommitAsync(ct), store.Location);
        await snapshot.CommitAsync(ct);

        var anomalies = anomalyDetector.Detect(source.Database!, dumpBytes, storedBytes, capturedFacts, await catalog.ListAsync(ct));
        foreach (var anomaly in anomalies)
        {
            LogAnomaly(logger, name, anomaly);
        }
        var metadata = new BackupMetadata(
            BackupMetadata.CurrentFormat, name, BackupType.Full, timestamp, source.Database!,
            $"{source.Host}:{source.Port}", storedBytes, dumpBytes, compressed ? "zstd" : "none", sha256,
            capturedFacts.ServerVersion, pgDumpVersion, Math.Round(started.Elapsed.TotalSeconds, 3), retainUntil, capturedFacts, anomalies);
        await WithStoreErrors(() => store.WriteAllAsync(BackupName.MetadataOf(name), metadata.ToJson(), new ObjectRetention(retainUntil), ct), store.Location);
        LogFinished(logger, name, storedBytes, started.Elapsed.TotalSeconds);
        DrMetrics.RecordBackup(source.Database!, "full", started.Elapsed, storedBytes, dumpBytes);
        return new BackupResult(metadata);
    }

    /// <summary>Waits for both; when one fails the other is cancelled, and the first real failure is thrown.</summary>
    private static async Task WhenBothAsync(Task first, Task second, CancellationTokenSource cancel)
    {
        var firstDone = await Task.WhenAny(first, second);
        if (firstDone.IsFaulted || firstDone.IsCanceled)
        {
            await cancel.CancelAsync();
        }
        try
        {
            await Task.WhenAll(first, second);
        }
        catch
        {
            var failure = new[] { firstDone, first, second }.FirstOrDefault(t => t.IsFaulted)?.Exception?.InnerException;
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
            throw;
        }
    }

    /// <summary>Names have one-second resolution: a second backup in the same second waits for the next.</summary>
    private async Task<(string Name, DateTimeOffset Timestamp)> ChooseNameAsync(string databaseName, CancellationToken ct)
    {
        while (true)
        {
            var now = clock.GetUtcNow();
            var timestamp = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
            var name = BackupName.For(databaseName, BackupType.Full, timestamp, backup.Value.Compression);
            if (await store.GetAsync(name, ct) is null && await store.GetAsync(BackupName.MetadataOf(name), ct) is null)
            {
                return (name, timestamp);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(1000 - now.Millisecond + 5), ct);
        }
    }

    /// <summary>Streams pg_dump of <paramref name="source"/> at the exported snapshot into <paramref name="destination"/>; internal for tests of how the tool is called.</summary>
    internal async Task<(long DumpBytes, long StoredBytes, string Sha256)> DumpAsync(
        NpgsqlConnectionStringBuilder source, string snapshotId, bool compress, Stream destination, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        // Our own zstd replaces pg_dump's gzip: on these machines gzip, not PostgreSQL, dominates backup time.
        // No --dbname: the database travels in PGDATABASE (PgTools), which libpq never reads as a connection string.
        string[] arguments = ["--format=custom", "--compress=0", $"--snapshot={snapshotId}", "--no-password"];
        using var process = Process.Start(tools.StartInfo("pg_dump", arguments, source))
            ?? throw new RecoveryException("could not start pg_dump");
        var stderr = StderrTail.CollectAsync(process.StandardError, ct);
        var hashing = new HashingStream(destination);
        long dumpBytes = 0;
        try
        {
            // Uncompressed, the sink is the hashing stream itself: it is flushed, never disposed, since its digest is read below.
            var sink = compress ? Compressor(hashing) : (Stream)hashing;
            try
            {
                var input = process.StandardOutput.BaseStream;
                var buffer = new byte[ChunkSize];
                var lastReport = Stopwatch.StartNew();
                int read;
                while ((read = await input.ReadAsync(buffer, ct)) > 0)
                {
                    await WithStoreErrors(() => sink.WriteAsync(buffer.AsMemory(0, read), ct).AsTask(), store.Location);
                    dumpBytes += read;
                    if (progress is not null && lastReport.ElapsedMilliseconds > 500)
                    {
                        progress.Report(new TransferProgress("dump", dumpBytes, hashing.BytesWritten));
                        lastReport.Restart();
                    }
                }
                await WithStoreErrors(() => sink.FlushAsync(ct), store.Location);
                if (compress)
                {
                    // Closing writes zstd's last frame, which can meet a full disk as well.
                    await WithStoreErrors(() => sink.DisposeAsync().AsTask(), store.Location);
                }
            }
            finally
            {
                try
                {
                    if (compress)
                    {
                        await sink.DisposeAsync();
                    }
                }
                catch (IOException)
                {
                    // Already failing: the partial backup goes with its writer, and the first error is the one reported.
                }
            }
            await process.WaitForExitAsync(ct);
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            throw;
        }
        var errors = await stderr;
        if (process.ExitCode != 0)
        {
            throw new RecoveryException($"pg_dump failed (exit {process.ExitCode}): {StderrTail.Summary(errors)}");
        }
        if (dumpBytes == 0)
        {
            throw new RecoveryException("pg_dump produced no output");
        }
        progress?.Report(new TransferProgress("dump", dumpBytes, hashing.BytesWritten));
        return (dumpBytes, hashing.BytesWritten, hashing.HexDigest());
    }

    private Stream Compressor(Stream output)
    {
        var stream = new CompressionStream(output, backup.Value.CompressionLevel, ChunkSize, leaveOpen: true);
        // zstd's own worker threads overlap compression with pg_dump producing the next chunk.
        stream.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, Math.Max(1, Environment.ProcessorCount));
        return stream;
    }

    /// <summary>Turns the store's I/O failures (a full disk above all) into one clear line.</summary>
    internal static async Task WithStoreErrors(Func<Task> write, string location)
    {
        try
        {
            await write();
        }
        catch (IOException e) when (e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase))
        {
            throw new RecoveryException($"no space left on the device holding {location}: the partial backup was discarded", e);
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            throw new RecoveryException($"writing to {location} failed: {e.Message}", e);
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Backing up {Server} as {Name} into {Store}")]
    private static partial void LogStarting(ILogger logger, string name, string server, string store);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Backup {Name} is suspect and will not count as good until accepted: {Anomaly}")]
    private static partial void LogAnomaly(ILogger logger, string name, string anomaly);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Backup {Name} committed: {Bytes} bytes in {Seconds:F1} s")]
    private static partial void LogFinished(ILogger logger, string name, long bytes, double seconds);
}
