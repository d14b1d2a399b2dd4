using System.Buffers;
using System.Threading.Channels;
using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Loads an archive's table data through several COPY sessions at once. pg_restore -j parallelises across
/// tables only, so one large table is one COPY on one core; here each table's rows are cut at line ends into
/// slices that whichever session is free takes, so a single large table loads on every core. Row order on
/// disk is not kept (SQL never promised it); rows, values and counts are.
/// </summary>
public static class TableDataLoader
{
    private const int SliceBytes = 1 << 20;

    // What pg_restore sets on its own sessions that can matter to COPY input.
    private const string SessionSetup =
        "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0; " +
        "SET xmloption = content; SET row_security = off; SELECT pg_catalog.set_config('search_path', '', false); " +
        // Only a staging copy is written: a crash loses it either way, and the final rename commits synchronously.
        "SET synchronous_commit = off";

    private sealed record Slice(ArchiveEntry Table, byte[] Buffer, int Length);

    /// <param name="onBytes">Told the archive bytes consumed so far, about once per slice.</param>
    public static async Task LoadAsync(ArchiveReader reader, ArchiveToc toc, NpgsqlConnectionStringBuilder target, int sessions, Action<long>? onBytes, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var channel = Channel.CreateBounded<Slice>(new BoundedChannelOptions(sessions * 2) { SingleWriter = true, SingleReader = false });
        var tasks = new List<Task>
        {
            Guard(async () =>
            {
                try
                {
                    await ProduceAsync(reader, toc, channel.Writer, onBytes, cts.Token);
                }
                finally
                {
                    channel.Writer.TryComplete();
                }
            }, cts),
        };
        for (var i = 0; i < sessions; i++)
        {
            tasks.Add(Guard(() => ConsumeAsync(channel.Reader, target, cts.Token), cts));
        }
        try
        {
            await Task.WhenAll(tasks);
        }
        catch
        {
            // Report the failure that stopped the others, not the cancellations it caused.
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            ct.ThrowIfCancellationRequested();
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }
            throw;
        }
        finally
        {
            while (channel.Reader.TryRead(out var left))
            {
                ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }

    private static async Task Guard(Func<Task> work, CancellationTokenSource cts)
    {
        try
        {
            await work();
        }
        catch
        {
            await cts.CancelAsync();
            throw;
        }
    }

    private static async Task ProduceAsync(ArchiveReader reader, ArchiveToc toc, ChannelWriter<Slice> slices, Action<long>? onBytes, CancellationToken ct)
    {
        var expected = toc.Entries.Where(e => e.IsTableData && e.HasData).ToDictionary(e => e.DumpId);
        var seen = new HashSet<int>();
        while (await reader.NextBlockAsync(ct) is { } id)
        {
            if (!expected.TryGetValue(id, out var table) || !seen.Add(id))
            {
                throw new InvalidDataException($"the archive holds a data block for entry {id}, which its table of contents does not expect");
            }
            var buffer = ArrayPool<byte>.Shared.Rent(SliceBytes);
            var used = 0;
            while (true)
            {
                if (!reader.TryReadChunk(buffer.AsSpan(used), out var length) && (length = await reader.ChunkLengthAsync(ct)) > 0)
                {
                    if (used + length > buffer.Length)
                    {
                        (buffer, used) = await EmitAsync(slices, table, buffer, used, ct);
                        if (used + length > buffer.Length)
                        {
                            // One row larger than a slice: grow rather than split it.
                            var larger = ArrayPool<byte>.Shared.Rent(used + length);
                            buffer.AsSpan(0, used).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }
                    }
                    await reader.ReadExactlyAsync(buffer.AsMemory(used, length), ct);
                }
                if (length == 0)
                {
                    break;
                }
                if (ArchiveReader.IsEndOfCopyMarker(buffer.AsSpan(used, length)))
                {
                    // Each session ends its own COPY; a marker inside one slice would cut the rows after it.
                    continue;
                }
                used += length;
                if (used >= SliceBytes)
                {
                    (buffer, used) = await EmitAsync(slices, table, buffer, used, ct);
                    onBytes?.Invoke(reader.Consumed);
                }
            }
            if (used > 0)
            {
                await slices.WriteAsync(new Slice(table, buffer, used), ct);
            }
            else
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        var missing = expected.Values.FirstOrDefault(e => !e.DataOffsetMissing && !seen.Contains(e.DumpId));
        if (missing is not null)
        {
            throw new EndOfStreamException($"the archive ends before the rows of {missing.DisplayName}");
        }
    }

    /// <summary>Sends the complete lines of <paramref name="buffer"/> and returns a fresh buffer holding the partial line that follows them.</summary>
    private static async Task<(byte[] Buffer, int Used)> EmitAsync(ChannelWriter<Slice> slices, ArchiveEntry table, byte[] buffer, int used, CancellationToken ct)
    {
        var cut = buffer.AsSpan(0, used).LastIndexOf((byte)'\n') + 1;
        if (cut == 0)
        {
            return (buffer, used);
        }
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(SliceBytes, used - cut));
        buffer.AsSpan(cut, used - cut).CopyTo(next);
        await slices.WriteAsync(new Slice(table, buffer, cut), ct);
        return (next, used - cut);
    }

    private static async Task ConsumeAsync(ChannelReader<Slice> slices, NpgsqlConnectionStringBuilder target, CancellationToken ct)
    {
        await using var connection = await PgConnector.OpenAsync(target, ct);
        await PgConnector.ExecuteAsync(connection, SessionSetup, ct);
        ArchiveEntry? table = null;
        TextWriter? copy = null;
        Stream? raw = null;
        try
        {
            await foreach (var slice in slices.ReadAllAsync(ct))
            {
                try
                {
                    if (!ReferenceEquals(slice.Table, table))
                    {
                        await FinishAsync(copy, table);
                        table = slice.Table;
                        copy = await connection.BeginTextImportAsync(table.CopyStatement!, ct);
                        // COPY text is bytes in the archive's encoding (UTF8, checked): write them as they are.
                        raw = ((StreamWriter)copy).BaseStream;
                    }
                    await raw!.WriteAsync(slice.Buffer.AsMemory(0, slice.Length), ct);
                }
                catch (PostgresException e)
                {
                    throw Failed(table!, e);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(slice.Buffer);
                }
            }
            await FinishAsync(copy, table);
            copy = null;
        }
        finally
        {
            if (copy is not null)
            {
                // Abandoned on a failure elsewhere: the staging database is dropped, so only the session matters,
                // and the failure being reported is the one that stopped the load, not this one.
                try
                {
                    await connection.CloseAsync();
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
                {
                }
            }
        }
    }

    private static async Task FinishAsync(TextWriter? copy, ArchiveEntry? table)
    {
        if (copy is null)
        {
            return;
        }
        try
        {
            await copy.DisposeAsync();
        }
        catch (PostgresException e)
        {
            throw Failed(table!, e);
        }
    }

    private static RecoveryException Failed(ArchiveEntry table, PostgresException e) =>
        new($"loading the rows of {table.DisplayName} failed: {e.MessageText} ({e.SqlState})", e);
}
