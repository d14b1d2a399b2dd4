using System.Diagnostics;
using System.Text.RegularExpressions;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Wal;

public enum ReceiveOutcome
{
    Received,

    /// <summary>WAL_RECEIVE_SLOT is not set: pull mode is not in use, and nothing failed.</summary>
    NotConfigured,
}

public sealed record WalReceiveResult(ReceiveOutcome Outcome, string Detail, IReadOnlyList<string> Archived, string? EndLsn);

/// <summary>
/// Pull mode, for servers where floyo-dr cannot be archive_command: pg_receivewal drains a physical
/// replication slot (created if missing, so the server keeps every segment until it is received) into a
/// private work folder, and each COMPLETE file it finished (segments, timeline histories) goes through the
/// same <see cref="WalArchive.PushAsync"/> as archive_command: compressed, hashed, write-once. A
/// <c>.partial</c> segment is never archived; the next run resumes it. With <c>untilNow</c> it stops at the
/// server's position when it started, after closing the current segment where the role may call pg_switch_wal().
/// </summary>
public sealed partial class WalReceiver(
    WalArchive archive,
    PgTools tools,
    DatabaseConnections connections,
    IOptions<WalOptions> wal,
    IOptions<DatabaseOptions> database,
    ILogger<WalReceiver> logger)
{
    public const string NotConfiguredDetail = "not configured: WAL_RECEIVE_SLOT is not set, so WAL is not pulled from the server (archive_command or the daily dumps cover it)";

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public async Task<WalReceiveResult> RunAsync(bool untilNow, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(wal.Value.ReceiveSlot))
        {
            LogNotConfigured(logger);
            return new WalReceiveResult(ReceiveOutcome.NotConfigured, NotConfiguredDetail, [], null);
        }
        var slot = wal.Value.ReceiveSlot;
        CheckSlotName(slot);
        var source = await connections.DatabaseAsync(ct);
        string? endLsn = null;
        await using (var connection = await PgConnector.OpenAsync(source, ct))
        {
            await tools.EnsureCompatibleAsync("pg_receivewal", connection.PostgreSqlVersion.Major * 10000, ct);
            await EnsureSlotAsync(connection, slot, ct);
            if (untilNow)
            {
                endLsn = await CurrentPositionAsync(connection, ct);
            }
        }

        var folder = Folder(slot);
        var archived = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Files a previous run completed but did not push (it was killed) go first.
        await PushCompleteAsync(folder, seen, archived, ct);
        LogReceiving(logger, slot, DatabaseUrl.Describe(source), endLsn ?? "(until stopped)");

        List<string> arguments = [$"--directory={folder}", $"--slot={slot}", "--no-loop", "--no-password", "--status-interval=1"];
        if (endLsn is not null)
        {
            arguments.Add($"--endpos={endLsn}");
        }
        using var process = Process.Start(tools.StartInfo("pg_receivewal", arguments, source))
            ?? throw new RecoveryException("could not start pg_receivewal");
        var stderr = StderrTail.CollectAsync(process.StandardError, CancellationToken.None);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        try
        {
            // Push as segments complete, so a long drain (or the run without --until-now) archives as it goes.
            while (!process.HasExited)
            {
                await Task.WhenAny(process.WaitForExitAsync(ct), Task.Delay(PollInterval, ct));
                ct.ThrowIfCancellationRequested();
                await PushCompleteAsync(folder, seen, archived, ct);
            }
        }
        catch (OperationCanceledException) when (endLsn is null)
        {
            // Stopping the endless receive is how it ends: what pg_receivewal completed is still archived.
            Stop(process);
            await PushCompleteAsync(folder, seen, archived, CancellationToken.None);
            return Done(slot, archived, null);
        }
        catch
        {
            Stop(process);
            throw;
        }
        await process.WaitForExitAsync(CancellationToken.None);
        var errors = await stderr;
        await stdout;
        if (process.ExitCode != 0)
        {
            var summary = StderrTail.Summary(errors);
            if (summary.Contains("is active for PID", StringComparison.Ordinal))
            {
                throw new UnavailableException($"replication slot '{slot}' is in use by another receiver: {summary}");
            }
            throw new RecoveryException($"pg_receivewal failed (exit {process.ExitCode}): {summary}");
        }
        await PushCompleteAsync(folder, seen, archived, ct);
        return Done(slot, archived, endLsn);
    }

    private WalReceiveResult Done(string slot, List<string> archived, string? endLsn)
    {
        var segments = archived.Count(n => n.Length == 24);
        LogReceived(logger, slot, archived.Count, endLsn ?? "(stopped)");
        var detail = archived.Count == 0
            ? $"slot '{slot}' drained to {endLsn ?? "where it stopped"}: no new complete segment"
            : $"slot '{slot}' drained to {endLsn ?? "where it stopped"}: {segments} segment(s) archived, {archived[0]} to {archived[^1]}";
        return new WalReceiveResult(ReceiveOutcome.Received, detail, archived, endLsn);
    }

    /// <summary>Archives every complete file in the folder, oldest first (identical re-pushes succeed); deletes it once archived, except the newest segment, where pg_receivewal resumes after it.</summary>
    private async Task PushCompleteAsync(string folder, HashSet<string> seen, List<string> archived, CancellationToken ct)
    {
        var files = Directory.EnumerateFiles(folder)
            .Select(path => (Path: path, Ok: WalFileName.TryParse(Path.GetFileName(path), WalFileName.DefaultSegmentSize, out var name), Name: name))
            .Where(f => f.Ok && f.Name!.Kind is WalFileKind.Segment or WalFileKind.History)
            // Histories before segments: a new timeline's history must be in the archive before its segments are used.
            .OrderBy(f => f.Name!.Kind == WalFileKind.History ? 0 : 1)
            .ThenBy(f => f.Name!.Name, StringComparer.Ordinal)
            .ToList();
        var newestSegment = files.LastOrDefault(f => f.Name!.Kind == WalFileKind.Segment).Path;
        foreach (var (path, _, name) in files)
        {
            // The newest segment stays in the folder: pushed once per run, not re-read at every poll.
            if (seen.Add(name!.Name) && await archive.PushAsync(path, ct) == PushOutcome.Archived)
            {
                archived.Add(name.Name);
            }
            if (path != newestSegment)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>The slot must exist and be physical; created reserving WAL at once, so nothing written from now on is lost.</summary>
    internal static async Task EnsureSlotAsync(NpgsqlConnection connection, string slot, CancellationToken ct)
    {
        CheckSlotName(slot);
        await using (var query = new NpgsqlCommand("SELECT slot_type FROM pg_replication_slots WHERE slot_name = $1", connection) { Parameters = { new() { Value = slot } } })
        {
            var type = (string?)await query.ExecuteScalarAsync(ct);
            if (type is "physical")
            {
                return;
            }
            if (type is not null)
            {
                throw new ConfigurationException($"replication slot '{slot}' is a {type} slot; WAL_RECEIVE_SLOT needs a physical one (choose another name)");
            }
        }
        try
        {
            await using var create = new NpgsqlCommand("SELECT pg_create_physical_replication_slot($1, true)", connection) { Parameters = { new() { Value = slot } } };
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            // Created by a concurrent run: just as good.
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            throw new ConfigurationException($"cannot create replication slot '{slot}': {e.MessageText} (the role needs the REPLICATION attribute, and the server wal_level = replica and max_replication_slots > 0)");
        }
    }

    /// <summary>Where the server is now, after closing the current segment when this role may (so what was written is archivable now, not at the next switch).</summary>
    private async Task<string> CurrentPositionAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_switch_wal()", connection);
            await command.ExecuteScalarAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            LogNoSwitch(logger);
        }
        await using var position = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", connection);
        return (string)(await position.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The private folder pg_receivewal writes into, one per slot, kept between runs so a .partial segment is resumed.</summary>
    private string Folder(string slot)
    {
        var folder = Path.Combine(WorkDirectory.Create(database.Value), $"wal-receive-{slot}");
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return folder;
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    private static void CheckSlotName(string slot)
    {
        if (!SlotName().IsMatch(slot))
        {
            throw new ConfigurationException($"WAL_RECEIVE_SLOT '{slot}' is not a replication slot name (lower-case letters, digits and underscores, at most 63)");
        }
    }

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    private static partial Regex SlotName();

    [LoggerMessage(EventId = 9000, Level = LogLevel.Information, Message = "WAL receive skipped: " + NotConfiguredDetail)]
    private static partial void LogNotConfigured(ILogger logger);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Receiving WAL through slot {Slot} from {Server} up to {EndLsn}")]
    private static partial void LogReceiving(ILogger logger, string slot, string server, string endLsn);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "WAL receive through slot {Slot} archived {Files} file(s), up to {EndLsn}")]
    private static partial void LogReceived(ILogger logger, string slot, int files, string endLsn);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "This role may not call pg_switch_wal(): WAL written since the last segment switch is received but stays partial until the server switches (archive_timeout)")]
    private static partial void LogNoSwitch(ILogger logger);
}
