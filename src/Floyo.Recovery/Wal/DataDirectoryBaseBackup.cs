using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading.Channels;
using Floyo.Recovery.Compression;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Floyo.Recovery.Wal;

/// <summary>
/// A base backup read from the data directory itself (BASE_BACKUP_DATA_DIR, floyo-dr on the database host), as
/// pgBackRest takes one: no walsender, no pg_basebackup, no relay of 1 GB through a socket and a pipe. After
/// <see cref="DataDirectoryIdentity"/> has proven the directory is the connected server's, one session runs a
/// non-exclusive backup (pg_backup_start with a fast checkpoint, the copy, pg_backup_stop, then a wait until the
/// server has archived the last segment, polled on the directory's archive_status);
/// a reader task lays the files out as a tar (what pg_basebackup would send, pg_control last, then the backup_label
/// pg_backup_stop returns) and takes their CRC32C while the compressor works on the previous chunks. The stored
/// format is the server-compressed one: the tar in one zstd frame, then backup_manifest (built here, checked by
/// pg_verifybackup on restore) as a second tar in its own frame. On any failure the caller closes the session (the
/// connection it already checked the server's settings on), which makes the server abort the backup, and does not commit the object.
/// </summary>
internal sealed partial class DataDirectoryBaseBackup(string dataDir, TimeSpan archiveWait, ZstdParameters zstd, ILogger logger)
{
    private const int ChunkSize = 1 << 20;
    private const int ReadAhead = 8;

    /// <param name="session">The caller's open connection, the backup's one session from the identity checks to pg_backup_stop.</param>
    /// <param name="archiving">archive_mode is not off: the backup then waits for its last segment (in pull mode the slot brings the WAL).</param>
    public async Task<(long TarBytes, long StoredBytes, string Sha256, IReadOnlyDictionary<string, string> Files)> StreamAsync(
        NpgsqlConnection session, bool archiving, string label, int level, int workers, Stream destination, CancellationToken ct)
    {
        var pid = await DataDirectoryIdentity.ProveAsync(dataDir, session, ct);
        await EnsureMayBackUpAsync(session, ct);

        var startLsn = await ScalarAsync(session, "SELECT pg_backup_start($1, fast => true)::text", label, ct);
        LogStarted(logger, dataDir, startLsn);
        DataDirectoryIdentity.EnsureHoldsCheckpoint(dataDir, startLsn);
        List<DataDirectoryEntry> entries;
        try
        {
            entries = DataDirectoryListing.List(dataDir, path => LogSkipped(logger, path));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConfigurationException($"cannot list {dataDir} ({e.Message}): with {DataDirectoryIdentity.Setting} floyo-dr must run as the database server's OS user; nothing was written", e);
        }

        var hashing = new HashingStream(destination);
        var manifest = new BackupManifestBuilder();
        var chunks = Channel.CreateBounded<(byte[] Buffer, int Length)>(new BoundedChannelOptions(ReadAhead) { SingleReader = true, SingleWriter = true });
        var tar = new DataDirectoryTarWriter(chunks.Writer, manifest, ChunkSize);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var frame = ZstdFrameWriter.Create(hashing, level, workers, parameters: zstd);
        LogEngine(logger, frame.Engine, level, workers);
        var compressing = CompressAsync(chunks.Reader, frame, stop);
        string labelFile;
        string stopLsn;
        string? lastSegment = null;
        var archived = Task.CompletedTask;
        try
        {
            // Reads run on the thread pool beside the compressor; a failure on either side stops the other.
            await Task.Run(async () =>
            {
                foreach (var entry in entries)
                {
                    await tar.AddAsync(entry, stop.Token);
                }
            }, stop.Token);
            (stopLsn, labelFile, var tablespaceMap) = await StopAsync(session, ct);
            if (!string.IsNullOrEmpty(tablespaceMap))
            {
                throw new ConfigurationException($"the server reported tablespaces at pg_backup_stop, which {DataDirectoryIdentity.Setting} does not back up: unset it to back up with pg_basebackup; the backup was not kept");
            }
            DataDirectoryIdentity.EnsureSameServer(dataDir, pid);
            if (archiving)
            {
                // The segment holding the stop location, as pg_backup_stop(wait_for_archive => true) would wait for; awaited below, before anything is returned.
                lastSegment = await ScalarAsync(session, "SELECT pg_walfile_name($1::pg_lsn)", stopLsn, ct);
                archived = DataDirectoryArchiveWait.WaitAsync(dataDir, lastSegment, archiveWait, stop.Token);
            }
            await tar.AddContentAsync("backup_label", Encoding.UTF8.GetBytes(labelFile), DateTimeOffset.UtcNow, stop.Token);
            await tar.FinishAsync(stop.Token);
            await compressing;
            await frame.FinishAsync(ct);
        }
        catch (UnauthorizedAccessException e)
        {
            await stop.CancelAsync();
            chunks.Writer.TryComplete(e);
            await Task.WhenAny(compressing);
            throw new ConfigurationException($"cannot read a file of {dataDir} ({e.Message}): with {DataDirectoryIdentity.Setting} floyo-dr must run as the database server's OS user; the backup was not kept", e);
        }
        catch (Exception e)
        {
            await stop.CancelAsync();
            chunks.Writer.TryComplete(e);
            await Task.WhenAny(compressing);
            await Task.WhenAny(archived);
            if (e is OperationCanceledException && !ct.IsCancellationRequested && compressing.Exception?.InnerException is { } cause)
            {
                // The reader was stopped because the compressor or the store failed: that failure is the one to report.
                ExceptionDispatchInfo.Throw(cause);
            }
            throw;
        }
        finally
        {
            await frame.DisposeAsync();
        }

        var (labelStart, _, timeline, _) = BaseBackupRunner.ParseLabel(labelFile);
        var manifestBytes = manifest.Build(timeline, labelStart, stopLsn);
        try
        {
            await hashing.WriteAsync(ServerCompressedBaseBackup.ManifestArchive(manifestBytes), ct);
            if (lastSegment is not null)
            {
                LogWaiting(logger, lastSegment);
            }
            await archived;
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
        LogCopied(logger, manifest.Count, tar.Bytes, startLsn, stopLsn);
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["backup_label"] = labelFile,
            ["backup_manifest"] = Encoding.UTF8.GetString(manifestBytes),
        };
        return (tar.Bytes, hashing.BytesWritten, hashing.HexDigest(), files);
    }

    /// <summary>Compresses the chunks in turn; a failure here (the store, the compressor) stops the reader, which may be waiting for room in the channel.</summary>
    private static async Task CompressAsync(ChannelReader<(byte[] Buffer, int Length)> chunks, ZstdFrameWriter frame, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var (buffer, length) in chunks.ReadAllAsync(stop.Token))
            {
                await frame.WriteAsync(buffer.AsMemory(0, length), stop.Token);
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
    }

    /// <summary>pg_backup_start/stop need EXECUTE only (grantable on a server where the admin is no superuser): said before anything starts.</summary>
    private static async Task EnsureMayBackUpAsync(NpgsqlConnection session, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT has_function_privilege('pg_backup_start(text, boolean)', 'EXECUTE') AND has_function_privilege('pg_backup_stop(boolean)', 'EXECUTE')", session);
        if (await command.ExecuteScalarAsync(ct) is not true)
        {
            throw new ConfigurationException($"the login '{session.UserName}' may not run a backup: GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean) TO it (no superuser needed), or unset {DataDirectoryIdentity.Setting}; nothing was written");
        }
    }

    private async Task<(string Lsn, string LabelFile, string? TablespaceMap)> StopAsync(NpgsqlConnection session, CancellationToken ct)
    {
        LogStopping(logger);
        // The backup is only complete once its last segment is archived; that wait is done here (DataDirectoryArchiveWait), not by the server.
        await using var command = new NpgsqlCommand("SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => false)", session);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new RecoveryException("pg_backup_stop returned no row; the backup was not kept");
        }
        return (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection session, string sql, string argument, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, session) { Parameters = { new() { Value = argument } } };
        return (string)(await command.ExecuteScalarAsync(ct))!;
    }

    [LoggerMessage(EventId = 7260, Level = LogLevel.Information, Message = "Base backup read directly from {DataDir}: backup started at {StartLsn}")]
    private static partial void LogStarted(ILogger logger, string dataDir, string startLsn);

    [LoggerMessage(EventId = 7261, Level = LogLevel.Warning, Message = "Skipping {Path}: not a regular file or directory (pg_basebackup skips it too)")]
    private static partial void LogSkipped(ILogger logger, string path);

    [LoggerMessage(EventId = 7262, Level = LogLevel.Debug, Message = "Direct base backup compressed here with {Engine} at zstd level {Level}, {Workers} workers")]
    private static partial void LogEngine(ILogger logger, string engine, int level, int workers);

    [LoggerMessage(EventId = 7263, Level = LogLevel.Information, Message = "Files copied; stopping the backup")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(EventId = 7265, Level = LogLevel.Information, Message = "Waiting for the server to archive {Segment}, the backup's last WAL segment")]
    private static partial void LogWaiting(ILogger logger, string segment);

    [LoggerMessage(EventId = 7264, Level = LogLevel.Information, Message = "Direct base backup: {Files} files, {TarBytes} tar bytes, WAL {StartLsn} to {StopLsn}")]
    private static partial void LogCopied(ILogger logger, int files, long tarBytes, string startLsn, string stopLsn);
}
