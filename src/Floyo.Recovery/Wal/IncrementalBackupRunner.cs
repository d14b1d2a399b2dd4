using System.Diagnostics;
using System.Globalization;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Wal;

public enum IncrementalOutcome
{
    Taken,

    /// <summary>No base backup and the server does not archive through floyo-dr: nothing to prove, and nothing failed.</summary>
    NotConfigured,

    /// <summary>A managed server: its archive settings cannot be read or changed by this role; the platform's own PITR applies.</summary>
    NotAvailable,
}

public sealed record IncrementalBackupResult(IncrementalOutcome Outcome, string Detail, IncrementalBackupRecord? Record);

/// <summary>
/// The 6-hourly incremental backup: the WAL archive is the increment. Forces a segment switch, waits (bounded)
/// until that segment is in the store, proves the archive continuous from the newest base backup to it
/// (<see cref="WalContinuity"/>) and records the LSN and time range. A gap, a stalled archiver or a stopped
/// archive_command is a failure naming it; a server never set up for archiving is "not configured", a managed
/// one "not available", neither a failure.
/// </summary>
public sealed partial class IncrementalBackupRunner(
    WalArchive archive,
    BaseBackupCatalog bases,
    WalContinuity continuity,
    DatabaseConnections connections,
    IOptions<BackupOptions> backup,
    IOptions<WalOptions> wal,
    WalReceiver receiver,
    TimeProvider clock,
    ILogger<IncrementalBackupRunner> logger)
{
    public const string NotConfiguredDetail = "not configured: WAL archiving is not set up (no base backup in the store, and the server does not archive with 'floyo-dr wal push %p'); the daily full backup is the recovery point";

    public async Task<IncrementalBackupResult> RunAsync(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var store = archive.Store;
        var newest = (await bases.ListAsync(ct)).FirstOrDefault();
        var source = await connections.DatabaseAsync(ct);
        await using var connection = await PgConnector.OpenAsync(source, ct);

        var settings = await ArchiveSettingsAsync(connection, ct);
        var floyoArchives = settings is { Mode: not "off", Command: { } command } && command.Contains("wal push", StringComparison.Ordinal);
        var pulling = !string.IsNullOrWhiteSpace(wal.Value.ReceiveSlot);
        if (newest is null && pulling)
        {
            throw new RecoveryException($"WAL is pulled through slot '{wal.Value.ReceiveSlot}' (WAL_RECEIVE_SLOT) but {store.Location} has no base backup to replay it from: take one with 'floyo-dr backup --base'");
        }
        if (newest is null)
        {
            if (settings is null)
            {
                return Skip(IncrementalOutcome.NotAvailable, $"not available on this server: the archive settings of {DatabaseUrl.Describe(source)} cannot be read by this role (a managed server?); use the platform's point-in-time restore; the logical dumps and their verification continue");
            }
            if (!floyoArchives)
            {
                return settings.CanChange
                    ? Skip(IncrementalOutcome.NotConfigured, NotConfiguredDetail)
                    : Skip(IncrementalOutcome.NotAvailable, $"not available on this server: this role cannot change archive_mode/archive_command on {DatabaseUrl.Describe(source)} (a managed server?); use the platform's point-in-time restore; the logical dumps and their verification continue");
            }
            throw new RecoveryException($"the server archives WAL with floyo-dr but {store.Location} has no base backup to replay it from: take one with 'floyo-dr backup --base'");
        }
        if (settings is { Mode: "off" } && !pulling)
        {
            throw new RecoveryException($"archive_mode is off on {DatabaseUrl.Describe(source)} but {store.Location} holds base backup {newest.Name}: WAL archiving has stopped; point-in-time recovery ends at the last archived segment");
        }

        string switchLsn, closed;
        uint timeline;
        if (pulling)
        {
            // Pull mode: the receive itself closes the segment (where allowed) and archives everything complete up to now.
            (switchLsn, closed, timeline) = await ReceiveAsync(connection, newest.Metadata, ct);
        }
        else
        {
            (switchLsn, closed, timeline) = await SwitchAsync(connection, ct);
            await WaitForArchiveAsync(connection, closed, ct);
        }

        var report = await continuity.CheckFromAsync(newest.Metadata, ct);
        var size = newest.Metadata.WalSegmentSize > 0 ? newest.Metadata.WalSegmentSize : WalFileName.DefaultSegmentSize;
        if (!report.Continuous)
        {
            throw new RecoveryException($"the WAL archive is not continuous from base backup {newest.Name}: {report.Problems[0]}");
        }
        WalFileName.TryParse(closed, size, out var closedName);
        if (report.LastContiguous is null || !WalFileName.TryParse(report.LastContiguous, size, out var last) || last!.SegmentNumber < closedName!.SegmentNumber)
        {
            throw new RecoveryException($"the WAL archive is not continuous from base backup {newest.Name} to {closed} (last continuous segment: {report.LastContiguous ?? "none"})");
        }

        // The increment starts where the previous one for this base backup stopped (or where the base backup became consistent).
        var previous = (await IncrementalBackupRecord.ListAsync(store, ct)).FirstOrDefault(r => r.BaseBackup == newest.Name);
        var (startLsn, startTime) = previous is null ? (newest.Metadata.StopLsn, newest.Metadata.StopTime) : (previous.StopLsn, previous.StopTime);
        var first = WalFileName.SegmentName(timeline, WalFileName.SegmentOf(startLsn, size), size);
        var now = clock.GetUtcNow();
        var name = $"{IncrementalBackupRecord.Prefix}{now.UtcDateTime.ToString("yyyyMMdd_HHmmss_fff", CultureInfo.InvariantCulture)}.json";
        var retainUntil = now.AddDays(backup.Value.IncrementalRetentionDays);
        var record = new IncrementalBackupRecord(IncrementalBackupRecord.CurrentFormat, name, newest.Name, timeline, startLsn, switchLsn, first, closed,
            (int)(closedName!.SegmentNumber - WalFileName.SegmentOf(startLsn, size) + 1), startTime, now, $"{source.Host}:{source.Port}",
            Math.Round(started.Elapsed.TotalSeconds, 3), retainUntil);
        await store.WriteAllAsync(name, record.ToJson(), new ObjectRetention(retainUntil), ct);
        LogTaken(logger, name, startLsn, switchLsn, report.Segments);
        return new IncrementalBackupResult(IncrementalOutcome.Taken,
            $"WAL {startLsn} - {switchLsn} (timeline {timeline}, {first} to {closed}) archived and continuous from {newest.Name}; recoverable to {PitrPlanner.Show(now)}", record);
    }

    private IncrementalBackupResult Skip(IncrementalOutcome outcome, string detail)
    {
        LogSkipped(logger, detail);
        return new IncrementalBackupResult(outcome, detail, null);
    }

    private sealed record ArchiveSettings(string Mode, string? Command, bool CanChange);

    /// <summary>archive_mode and archive_command, and whether this role could change them; null when they cannot be read (managed servers).</summary>
    private static async Task<ArchiveSettings?> ArchiveSettingsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        try
        {
            await using var command = new NpgsqlCommand("""
                SELECT current_setting('archive_mode'), current_setting('archive_command', true),
                       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                       OR has_parameter_privilege('archive_command', 'ALTER SYSTEM')
                """, connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new ArchiveSettings(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), !reader.IsDBNull(2) && reader.GetBoolean(2));
        }
        catch (PostgresException)
        {
            return null;
        }
    }

    /// <summary>Drains the slot to now; the last complete segment is the one before the segment the end position falls in (or ends at).</summary>
    private async Task<(string Lsn, string Closed, uint Timeline)> ReceiveAsync(NpgsqlConnection connection, BaseBackupMetadata newest, CancellationToken ct)
    {
        var received = await receiver.RunAsync(untilNow: true, ct);
        var end = received.EndLsn ?? throw new RecoveryException("the WAL receive stopped without reaching the server's position");
        await using var command = new NpgsqlCommand("SELECT pg_walfile_name(pg_current_wal_lsn())", connection);
        var timeline = WalFileName.Parse((string)(await command.ExecuteScalarAsync(ct))!).Timeline;
        var size = newest.WalSegmentSize > 0 ? newest.WalSegmentSize : WalFileName.DefaultSegmentSize;
        var closed = WalFileName.SegmentName(timeline, WalFileName.SegmentOf(end, size) - 1, size);
        return (end, closed, timeline);
    }

    private static async Task<(string Lsn, string Closed, uint Timeline)> SwitchAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        try
        {
            // pg_walfile_name of the switch point names the segment just closed (or, with nothing to switch, the last one closed).
            await using var command = new NpgsqlCommand("SELECT s::text, pg_walfile_name(s) FROM pg_switch_wal() s", connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var closed = reader.GetString(1);
            return (reader.GetString(0), closed, WalFileName.Parse(closed).Timeline);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new RecoveryException("this role may not call pg_switch_wal(): GRANT EXECUTE ON FUNCTION pg_switch_wal() TO it, so the incremental backup can close the current segment");
        }
    }

    /// <summary>Waits, bounded by INCREMENTAL_ARCHIVE_WAIT_SECONDS, until <paramref name="segment"/> is committed in the store.</summary>
    private async Task WaitForArchiveAsync(NpgsqlConnection connection, string segment, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(Math.Max(1, wal.Value.ArchiveWaitSeconds));
        while (await archive.Store.GetAsync(WalArchiveRecord.RecordName(segment), ct) is null)
        {
            if (deadline.Elapsed > limit)
            {
                throw new RecoveryException($"{segment} was not archived into {archive.Store.Location} within {limit.TotalSeconds:F0} s ({await ArchiverStateAsync(connection, ct)}): the archive ends before now");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, ct);
        }
    }

    private static async Task<string> ArchiverStateAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        try
        {
            await using var command = new NpgsqlCommand(
                "SELECT format('server archiver: last archived %s, %s failures, last failed %s', coalesce(last_archived_wal, 'none'), failed_count, coalesce(last_failed_wal, 'none')) FROM pg_stat_archiver", connection);
            return (await command.ExecuteScalarAsync(ct))?.ToString() ?? "archiver state unknown";
        }
        catch (PostgresException)
        {
            return "pg_stat_archiver cannot be read";
        }
    }

    [LoggerMessage(EventId = 7130, Level = LogLevel.Information, Message = "Incremental backup {Name}: WAL {StartLsn} - {StopLsn} continuous ({Segments} segments since the base backup)")]
    private static partial void LogTaken(ILogger logger, string name, string startLsn, string stopLsn, int segments);

    [LoggerMessage(EventId = 7131, Level = LogLevel.Information, Message = "Incremental backup skipped: {Detail}")]
    private static partial void LogSkipped(ILogger logger, string detail);
}
