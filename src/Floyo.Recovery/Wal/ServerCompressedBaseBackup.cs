using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZstdSharp;

namespace Floyo.Recovery.Wal;

/// <summary>
/// A base backup compressed by the server (<c>pg_basebackup --compress=server-zstd</c>, PostgreSQL 15+): the
/// walsender compresses as it reads, so only the compressed bytes cross the socket, pg_basebackup and our
/// process (about a third less CPU in all than compressing 1 GB client-side). pg_basebackup cannot put the
/// manifest into a compressed tar on stdout, so it writes into a private scratch directory, which is followed
/// as it grows; the manifest is then appended as a second tar in its own zstd frame (restore reads the tars in
/// turn), and backup_label is read from the head of the archive.
/// A server (or pg_basebackup) built without zstd refuses before sending a byte; <see cref="StreamOrFallBackAsync"/>
/// then compresses client-side instead, once, with a warning; any other failure still fails the backup.
/// </summary>
internal sealed partial class ServerCompressedBaseBackup(PgTools tools, ILogger? logger = null)
{
    private const int ChunkSize = 1 << 20;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>
    /// The refusals of a PostgreSQL (15 and later) or a pg_basebackup built without zstd, as their message catalogues
    /// spell them: the server's option check ("invalid compression specification: this build does not support
    /// compression with ZSTD"), its zstd sink ("zstd compression is not supported by this build"), and a server
    /// too old for server-side compression at all. English only: a server answering in another language fails as before.
    /// </summary>
    private static readonly string[] ZstdRefusals =
    [
        "this build does not support compression with zstd",
        "zstd compression is not supported by this build",
        "this build does not support zstd compression",
        "server does not support server-side compression",
    ];

    /// <summary>Whether pg_basebackup's stderr says that server-side zstd is unavailable (and nothing else went wrong first).</summary>
    internal static bool RefusesServerZstd(string stderr) =>
        ZstdRefusals.Any(r => stderr.Contains(r, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Server-side compression, or, when the server cannot do zstd and nothing has been written yet, <paramref name="clientSide"/>
    /// (the same backup compressed by this process) once, with a warning saying why.
    /// </summary>
    public async Task<(long TarBytes, long StoredBytes, string Sha256, IReadOnlyDictionary<string, string> Files)> StreamOrFallBackAsync(
        Npgsql.NpgsqlConnectionStringBuilder source, string label, int level, int workers, Stream destination,
        Func<Task<(long TarBytes, long StoredBytes, string Sha256, IReadOnlyDictionary<string, string> Files)>> clientSide, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(clientSide);
        try
        {
            return await StreamAsync(source, label, level, workers, destination, ct);
        }
        catch (ServerZstdUnavailableException e)
        {
            LogFallingBack(_logger, e.Message);
            return await clientSide();
        }
    }

    public async Task<(long TarBytes, long StoredBytes, string Sha256, IReadOnlyDictionary<string, string> Files)> StreamAsync(
        Npgsql.NpgsqlConnectionStringBuilder source, string label, int level, int workers, Stream destination, CancellationToken ct)
    {
        using var scratch = BaseBackupScratch.Create();
        var target = Path.Combine(scratch.Path, "data");
        string[] arguments = ["--format=tar", $"--pgdata={target}", "--wal-method=none", "--checkpoint=fast", "--no-password", $"--label={label}",
            $"--compress=server-zstd:level={level},workers={workers}"];
        using var process = Process.Start(tools.StartInfo("pg_basebackup", arguments, source))
            ?? throw new RecoveryException("could not start pg_basebackup");
        var stderr = StderrTail.CollectAsync(process.StandardError, ct);
        var hashing = new HashingStream(destination);
        var archive = Path.Combine(target, "base.tar.zst");
        try
        {
            await FollowAsync(archive, process, hashing, ct);
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
            // Only a refusal before the first byte can be retried: the store's object is written once, from its start.
            if (hashing.BytesWritten == 0 && RefusesServerZstd(errors))
            {
                throw new ServerZstdUnavailableException($"pg_basebackup could not compress on the server: {StderrTail.Summary(errors)}");
            }
            throw new RecoveryException($"pg_basebackup failed (exit {process.ExitCode}): {StderrTail.Summary(errors)}");
        }
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var manifestPath = Path.Combine(target, "backup_manifest");
        if (File.Exists(manifestPath))
        {
            var manifest = await File.ReadAllBytesAsync(manifestPath, ct);
            await hashing.WriteAsync(ManifestArchive(manifest), ct);
            files["backup_manifest"] = Encoding.UTF8.GetString(manifest);
        }
        if (await LabelOfAsync(archive, ct) is { } backupLabel)
        {
            files["backup_label"] = backupLabel;
        }
        return (TarBytesOf(files.GetValueOrDefault("backup_manifest")), hashing.BytesWritten, hashing.HexDigest(), files);
    }

    /// <summary>Copies the archive as pg_basebackup writes it, until pg_basebackup has exited and the file is read to its end.</summary>
    private static async Task FollowAsync(string archive, Process process, Stream destination, CancellationToken ct)
    {
        FileStream? file = null;
        try
        {
            while (file is null)
            {
                var exited = process.HasExited;
                if (File.Exists(archive))
                {
                    file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
                }
                else if (exited)
                {
                    return;
                }
                else
                {
                    await Task.Delay(Poll, ct);
                }
            }
            var buffer = new byte[ChunkSize];
            while (true)
            {
                // Read after looking: once pg_basebackup has exited, its file is complete, so a read of nothing is the end.
                var exited = process.HasExited;
                var read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
                if (read > 0)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                if (read < buffer.Length)
                {
                    if (exited)
                    {
                        return;
                    }
                    await Task.Delay(Poll, ct);
                }
            }
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
        }
    }

    /// <summary>backup_label, the archive's first entry, from the head of the compressed archive.</summary>
    private static async Task<string?> LabelOfAsync(string archive, CancellationToken ct)
    {
        if (!File.Exists(archive))
        {
            return null;
        }
        var walker = new BaseBackupTarWalker(new HashSet<string>(StringComparer.Ordinal) { "backup_label" });
        await using var file = File.OpenRead(archive);
        await using var tar = new DecompressionStream(file);
        var buffer = new byte[64 << 10];
        int read;
        while (!walker.Files.ContainsKey("backup_label") && !walker.Ended && !walker.Malformed && (read = await tar.ReadAsync(buffer, ct)) > 0)
        {
            walker.Append(buffer.AsSpan(0, read));
        }
        return walker.Files.GetValueOrDefault("backup_label");
    }

    /// <summary>A tar holding only backup_manifest, as one zstd frame: appended after the server's archive.</summary>
    internal static byte[] ManifestArchive(byte[] manifest)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "backup_manifest")
            {
                DataStream = new MemoryStream(manifest),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                ModificationTime = DateTimeOffset.UtcNow,
            });
        }
        using var compressor = new Compressor(3);
        return compressor.Wrap(tar.ToArray()).ToArray();
    }

    /// <summary>The data directory's size as a tar (each file's header and padded data), from the manifest: the server's archive is never decompressed here.</summary>
    private static long TarBytesOf(string? manifest)
    {
        if (manifest is null)
        {
            return 0;
        }
        using var document = System.Text.Json.JsonDocument.Parse(manifest);
        if (!document.RootElement.TryGetProperty("Files", out var entries))
        {
            return 0;
        }
        long total = 1024;
        foreach (var entry in entries.EnumerateArray())
        {
            var size = entry.TryGetProperty("Size", out var value) ? value.GetInt64() : 0;
            total += 512 + (size + 511) / 512 * 512;
        }
        return total;
    }

    [LoggerMessage(EventId = 7310, Level = LogLevel.Warning, Message = "Base backup compressed by floyo-dr instead of the server (BASE_BACKUP_COMPRESSION_SIDE=server): {Reason}; set BASE_BACKUP_COMPRESSION_SIDE=client to skip the attempt, or use a PostgreSQL built with zstd")]
    private static partial void LogFallingBack(ILogger logger, string reason);
}

/// <summary>The server (or pg_basebackup) cannot compress with zstd, and refused before writing anything.</summary>
internal sealed class ServerZstdUnavailableException(string message) : RecoveryException(message);
