using System.Globalization;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Wal;

/// <summary>What the server says about its archiver (pg_stat_archiver and the archive settings).</summary>
public sealed record ArchiverState(
    string Mode,
    int ArchiveTimeoutSeconds,
    string? LastArchivedWal,
    DateTimeOffset? LastArchivedTime,
    string? LastFailedWal,
    DateTimeOffset? LastFailedTime,
    long FailedCount,
    string CurrentLsn,
    long SegmentSize);

/// <summary>One replication slot: whether a consumer is connected, and how much WAL it makes the server keep (null before it reserved any).</summary>
public sealed record SlotState(string Name, string Type, bool Active, long? RetainedBytes);

/// <summary>
/// The server side of the archive's health, read where the recovery point is reported (/api/health, list): a
/// failing or stopped archiver, archiving switched off while the store relies on it, a replication slot that
/// retains too much WAL or has no consumer, the pull-mode slot missing. Each is a finding (an RPO breach),
/// visible within one archive_timeout: the archiver fails on the segment that timeout closes.
/// </summary>
public sealed partial class ArchiveHealthProbe(DatabaseConnections connections, IOptions<WalOptions> wal, TimeProvider clock, ILogger<ArchiveHealthProbe> logger)
{
    /// <summary>The findings, none when healthy; a server that cannot be reached or read is logged, not a finding (the database's own health check reports it).</summary>
    public async Task<IReadOnlyList<string>> FindingsAsync(CancellationToken ct)
    {
        try
        {
            var source = await connections.DatabaseAsync(ct);
            await using var connection = await Postgres.PgConnector.OpenAsync(source, ct);
            var archiver = await ArchiverAsync(connection, ct);
            var slots = await SlotsAsync(connection, ct);
            return Decide(archiver, slots, wal.Value, clock.GetUtcNow());
        }
        catch (Exception e) when (e is RecoveryException or NpgsqlException)
        {
            LogNotChecked(logger, e.Message);
            return [];
        }
    }

    public static IReadOnlyList<string> Decide(ArchiverState archiver, IReadOnlyList<SlotState> slots, WalOptions options, DateTimeOffset now)
    {
        var findings = new List<string>();
        var receiveSlot = string.IsNullOrWhiteSpace(options.ReceiveSlot) ? null : options.ReceiveSlot;
        if (archiver.Mode == "off")
        {
            if (receiveSlot is null)
            {
                findings.Add("archiving is off on the server (archive_mode = off) and no WAL_RECEIVE_SLOT pulls it: no WAL reaches the archive, the recovery point does not advance");
            }
        }
        else if (archiver.LastFailedTime is { } failed && (archiver.LastArchivedTime is not { } ok || failed > ok))
        {
            findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"the server's archiver is failing: {archiver.LastFailedWal} failed at {PitrPlanner.Show(failed)} ({archiver.FailedCount} failures in all); last archived: {archiver.LastArchivedWal ?? "none"}{(archiver.LastArchivedTime is { } at ? $" at {PitrPlanner.Show(at)}" : "")}; check archive_command and the store"));
        }
        else if (Stalled(archiver, options, now) is { } stalled)
        {
            findings.Add(stalled);
        }

        var limit = (long)options.SlotMaxRetainedMegabytes * 1024 * 1024;
        if (receiveSlot is not null && !slots.Any(s => s.Name == receiveSlot))
        {
            findings.Add($"replication slot '{receiveSlot}' (WAL_RECEIVE_SLOT) does not exist on the server: run 'floyo-dr wal receive' (it creates it); WAL written meanwhile is not kept for the archive");
        }
        foreach (var slot in slots)
        {
            var retained = slot.RetainedBytes is { } bytes ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F0} MiB") : "no";
            if (slot.RetainedBytes > limit)
            {
                findings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"replication slot '{slot.Name}' ({(slot.Active ? "active" : "inactive")}) retains {retained} of WAL, over WAL_SLOT_MAX_RETAINED_MB ({options.SlotMaxRetainedMegabytes}): its consumer is behind{(slot.Name == receiveSlot ? ", so the archive lags the server" : "")} and the server's disk fills"));
            }
            else if (!slot.Active && slot.Name != receiveSlot)
            {
                // The receive slot is idle between runs by design; any other idle slot pins WAL for a consumer that may be gone.
                findings.Add($"replication slot '{slot.Name}' is inactive (no consumer connected) and retains {retained} WAL: reconnect its consumer or drop it");
            }
        }
        return findings;
    }

    /// <summary>The newest archived segment older than archive_timeout plus the margin while the server has written WAL after it: the archiver has stopped.</summary>
    private static string? Stalled(ArchiverState archiver, WalOptions options, DateTimeOffset now)
    {
        if (archiver.LastArchivedWal is null || archiver.LastArchivedTime is not { } at
            || !WalFileName.TryParse(archiver.LastArchivedWal, archiver.SegmentSize, out var last) || last!.Kind == WalFileKind.History)
        {
            return null;
        }
        var current = WalFileName.ParseLsn(archiver.CurrentLsn);
        var archivedEnd = (last.SegmentNumber + 1) * (ulong)archiver.SegmentSize;
        var completeSince = current / (ulong)archiver.SegmentSize > last.SegmentNumber + 1;
        var writtenSince = current > archivedEnd;
        var allowed = TimeSpan.FromSeconds(archiver.ArchiveTimeoutSeconds + options.ArchiveStallMarginSeconds);
        // Without archive_timeout a quiet server may rightly sit in one segment for hours: only a complete, unarchived segment counts then.
        var behind = archiver.ArchiveTimeoutSeconds > 0 ? writtenSince : completeSince;
        if (!behind || now - at <= allowed)
        {
            return null;
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"the server's archiver has stopped: the last segment archived, {archiver.LastArchivedWal}, was at {PitrPlanner.Show(at)}, over archive_timeout ({archiver.ArchiveTimeoutSeconds} s) plus {options.ArchiveStallMarginSeconds} s ago, while the server has written WAL since (now at {archiver.CurrentLsn})");
    }

    private static async Task<ArchiverState> ArchiverAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT current_setting('archive_mode'), current_setting('archive_timeout')::interval,
                   a.last_archived_wal, a.last_archived_time, a.last_failed_wal, a.last_failed_time, a.failed_count,
                   pg_current_wal_lsn()::text, (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')
            FROM pg_stat_archiver a
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new ArchiverState(
            reader.GetString(0),
            (int)reader.GetFieldValue<TimeSpan>(1).TotalSeconds,
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
            reader.GetInt64(6),
            reader.GetString(7),
            reader.GetInt64(8));
    }

    private static async Task<IReadOnlyList<SlotState>> SlotsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT slot_name::text, slot_type, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots ORDER BY slot_name", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var slots = new List<SlotState>();
        while (await reader.ReadAsync(ct))
        {
            slots.Add(new SlotState(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetInt64(3)));
        }
        return slots;
    }

    [LoggerMessage(EventId = 9010, Level = LogLevel.Warning, Message = "The server's archiving health was not checked: {Reason}")]
    private static partial void LogNotChecked(ILogger logger, string reason);
}
