using System.Text;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using ZstdSharp;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Restores a backup as it streams out of the store, with no local copy of the dump: pg_restore creates the
/// schema from the archive's table of contents, <see cref="TableDataLoader"/> loads the rows through
/// parallel COPY sessions, and pg_restore -j builds indexes and constraints once the whole stream has
/// matched its checksum. Any failure leaves a half-built database that the caller drops.
/// </summary>
public sealed partial class StreamingRestorer(PgRestore pgRestore, IOptions<DatabaseOptions> options, ILogger<StreamingRestorer> logger)
{
    /// <returns>False, with nothing touched, when the archive is not one this can stream (the caller uses pg_restore on a local copy).</returns>
    public async Task<bool> TryRestoreAsync(NpgsqlConnectionStringBuilder server, string database, StoredBackup backup, CancellationToken ct)
    {
        var meta = backup.Entry.Metadata;
        await using var source = await backup.Store.OpenReadAsync(meta.Name, ct);
        using var hashing = new HashingStream(source);
        await using var decoded = meta.IsCompressed ? new DecompressionStream(hashing, 1 << 20, leaveOpen: true) : (Stream)hashing;
        var reader = new ArchiveReader(decoded);
        ArchiveToc toc;
        try
        {
            toc = await reader.ReadTocAsync(ct);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ZstdException)
        {
            LogNotStreamed(logger, meta.Name, e.Message);
            return false;
        }
        if (toc.Unstreamable is { } why)
        {
            LogNotStreamed(logger, meta.Name, why);
            return false;
        }

        var stem = Path.Combine(WorkDirectory.Create(options.Value), Guid.NewGuid().ToString("N"));
        string archive = stem + ".toc", before = stem + ".pre.list", after = stem + ".post.list";
        try
        {
            var (schema, rest) = Split(toc);
            await WritePrivateAsync(archive, toc.Bytes, ct);
            await WritePrivateAsync(before, ListFile(schema), ct);
            await WritePrivateAsync(after, ListFile(rest), ct);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await pgRestore.RunAsync(server, database, archive, before, 1, ct);
            var schemaSeconds = clock.Elapsed.TotalSeconds;
            try
            {
                await TableDataLoader.LoadAsync(reader, toc, DatabaseUrl.WithDatabase(server, database), options.Value.RestoreJobs,
                    consumed => backup.Progress?.Report(new TransferProgress("restore", hashing.BytesRead, consumed)), ct);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ZstdException or RecoveryException)
            {
                // Bytes that are not the recorded ones are the finding, not whatever they broke on the way.
                await ChecksumMismatchException.ThrowIfNotRecordedAsync(hashing, meta, ct);
                if (e is RecoveryException)
                {
                    throw;
                }
                throw new IntegrityException($"{meta.Name} matches its checksum but is not a readable archive ({e.Message}); nothing was restored", e);
            }
            await ChecksumMismatchException.ThrowIfNotRecordedAsync(hashing, meta, ct);
            if (reader.Consumed != meta.DumpBytes)
            {
                throw new IntegrityException($"{meta.Name} matches its checksum but holds {reader.Consumed} archive bytes where pg_dump wrote {meta.DumpBytes}; nothing was restored");
            }
            var rowsSeconds = clock.Elapsed.TotalSeconds - schemaSeconds;
            await pgRestore.RunAsync(server, database, archive, after, options.Value.RestoreJobs, ct);
            LogStreamed(logger, meta.Name, schemaSeconds, rowsSeconds, clock.Elapsed.TotalSeconds - schemaSeconds - rowsSeconds);
        }
        finally
        {
            foreach (var file in new[] { archive, before, after })
            {
                File.Delete(file);
            }
        }
        return true;
    }

    /// <summary>
    /// What pg_restore -j itself does first, in one session, and what it does after the data: pre-data entries,
    /// with unsectioned ones (comments) that precede the first data or post-data entry; then everything else.
    /// </summary>
    private static (List<ArchiveEntry> Schema, List<ArchiveEntry> Remainder) Split(ArchiveToc toc)
    {
        List<ArchiveEntry> schema = [], rest = [];
        var pastSchema = false;
        foreach (var entry in toc.Entries)
        {
            pastSchema |= entry.Section is ArchiveSection.Data or ArchiveSection.PostData;
            if (entry.Section == ArchiveSection.PreData || (entry.Section == ArchiveSection.None && !pastSchema))
            {
                schema.Add(entry);
            }
            else if (!(entry.IsTableData && entry.HasData))
            {
                rest.Add(entry);
            }
        }
        return (schema, rest);
    }

    private static byte[] ListFile(IEnumerable<ArchiveEntry> entries)
    {
        var text = new StringBuilder();
        foreach (var entry in entries)
        {
            text.Append(entry.DumpId.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(";\n");
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static async Task WritePrivateAsync(string path, byte[] content, CancellationToken ct)
    {
        await using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        await file.WriteAsync(content, ct);
    }

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Streamed {Backup}: schema {SchemaSeconds:F1} s, rows {RowsSeconds:F1} s, indexes and constraints {IndexSeconds:F1} s")]
    private static partial void LogStreamed(ILogger logger, string backup, double schemaSeconds, double rowsSeconds, double indexSeconds);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Restoring {Backup} through a local copy and pg_restore: {Reason}")]
    private static partial void LogNotStreamed(ILogger logger, string backup, string reason);
}
