using System.Buffers.Binary;
using System.Globalization;
using Npgsql;

namespace Floyo.Recovery.Wal;

/// <summary>What postmaster.pid says of the server running on a data directory: its start (epoch seconds) and port.</summary>
public sealed record PostmasterPid(long StartEpochSeconds, int Port);

/// <summary>
/// Proves, before anything is read or written, that BASE_BACKUP_DATA_DIR is the live data directory of the server
/// floyo-dr is connected to, or refuses in one line. A copy of another cluster's directory, a standby's on the same
/// host (same path, same system identifier) or a stale one would otherwise give a backup that restores to the wrong
/// data or not at all. Checks: the server is a primary of PostgreSQL 15+; pg_control's system identifier is the
/// server's and its state is "in production" (a standby's says "in archive recovery"); postmaster.pid names the
/// server's port and a start time that matches pg_postmaster_start_time(); no extra tablespaces; and, once
/// pg_backup_start has checkpointed, the directory's pg_control holds that checkpoint (a copy would not).
/// </summary>
public static class DataDirectoryIdentity
{
    public const string Setting = "BASE_BACKUP_DATA_DIR";

    private const int InProduction = 6;

    /// <summary>
    /// postmaster.pid's start time is taken when the postmaster starts, pg_postmaster_start_time() a little later (after
    /// shared memory is set up, which takes seconds with large shared_buffers): the two agree to within this.
    /// </summary>
    internal static readonly TimeSpan StartTimeSlack = TimeSpan.FromSeconds(60);

    /// <summary>The checks on <paramref name="dataDir"/> against the server behind <paramref name="connection"/>; returns postmaster.pid as read, to be read again at the end.</summary>
    public static async Task<PostmasterPid> ProveAsync(string dataDir, NpgsqlConnection connection, CancellationToken ct)
    {
        if (connection.PostgreSqlVersion.Major < 15)
        {
            throw new ConfigurationException($"{Setting} needs PostgreSQL 15 or later (pg_backup_start); the server is {connection.PostgreSqlVersion}: unset {Setting} to back it up with pg_basebackup; nothing was written");
        }
        if (!Directory.Exists(dataDir))
        {
            throw new ConfigurationException($"{Setting} {dataDir} does not exist on this machine: floyo-dr must run on the database host; nothing was written");
        }
        var control = ReadControlFile(dataDir);
        var pid = ReadPostmasterPid(dataDir);
        RefuseTablespaces(dataDir);

        await using var command = new NpgsqlCommand(
            "SELECT pg_is_in_recovery(), floor(extract(epoch from pg_postmaster_start_time()))::bigint, current_setting('port')::int", connection);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            if (reader.GetBoolean(0))
            {
                throw new RefusedException($"the server is a standby (in recovery): {Setting} backs up a primary only; unset it to back up a standby with pg_basebackup; nothing was written");
            }
            var started = reader.GetInt64(1);
            var port = reader.GetInt32(2);
            if (pid.Port != port)
            {
                throw new RefusedException($"{Setting} {dataDir} is the data directory of the server on port {pid.Port} (postmaster.pid), not of the connected server on port {port}; nothing was written");
            }
            if (started < pid.StartEpochSeconds || started - pid.StartEpochSeconds > StartTimeSlack.TotalSeconds)
            {
                throw new RefusedException($"{Setting} {dataDir} belongs to a server started at {Show(pid.StartEpochSeconds)} (postmaster.pid), not to the connected server started at {Show(started)}; nothing was written");
            }
        }
        var systemId = await SystemIdentifierAsync(connection, ct);
        if (control.SystemIdentifier != systemId)
        {
            throw new RefusedException($"{Setting} {dataDir} holds cluster {control.SystemIdentifier} (global/pg_control), not the connected server's {systemId}: it is another cluster's data directory; nothing was written");
        }
        if (control.State != InProduction)
        {
            throw new RefusedException($"{Setting} {dataDir}'s pg_control says state {control.State}, not 'in production': it is a standby's or a stopped cluster's directory, not the connected primary's; nothing was written");
        }
        return pid;
    }

    /// <summary>
    /// Right after pg_backup_start (before any file is read): its checkpoint must be in this directory's pg_control. A
    /// copy of the live directory (postmaster.pid and all) passes the checks above but holds an older checkpoint.
    /// </summary>
    public static void EnsureHoldsCheckpoint(string dataDir, string startLsn)
    {
        var (_, state, redo) = ReadControlFile(dataDir);
        var start = ParseLsn(startLsn);
        if (state != InProduction || redo < start)
        {
            throw new RefusedException($"{Setting} {dataDir}'s pg_control does not hold the checkpoint pg_backup_start just made (REDO {ShowLsn(redo)}, expected {startLsn} or later): it is a copy or another server's directory, not the live one; nothing was written");
        }
    }

    /// <summary>postmaster.pid again, after the copy: a server restarted meanwhile on the directory makes the copy worthless.</summary>
    public static void EnsureSameServer(string dataDir, PostmasterPid before)
    {
        var now = ReadPostmasterPid(dataDir);
        if (now != before)
        {
            throw new RecoveryException($"the server on {dataDir} restarted during the base backup (postmaster.pid changed); the backup was not kept");
        }
    }

    /// <summary>The head of ControlFileData (stable since 9.x): system identifier at 0, state at 16, the last checkpoint's REDO location at 40.</summary>
    internal static (ulong SystemIdentifier, int State, ulong Redo) ReadControlFile(string dataDir)
    {
        var path = Path.Combine(dataDir, "global", "pg_control");
        var head = new byte[48];
        try
        {
            using var file = File.OpenRead(path);
            file.ReadExactly(head);
        }
        catch (UnauthorizedAccessException)
        {
            throw Unreadable(dataDir, path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException)
        {
            throw new RefusedException($"{Setting} {dataDir} has no readable global/pg_control: it is not a PostgreSQL data directory; nothing was written");
        }
        return (BinaryPrimitives.ReadUInt64LittleEndian(head), BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(16)), BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(40)));
    }

    internal static ulong ParseLsn(string lsn)
    {
        var slash = lsn.IndexOf('/', StringComparison.Ordinal);
        return slash > 0
            && uint.TryParse(lsn.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            && uint.TryParse(lsn.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low)
            ? ((ulong)high << 32) | low
            : throw new RecoveryException($"'{lsn}' is not a WAL location");
    }

    private static string ShowLsn(ulong lsn) => string.Create(CultureInfo.InvariantCulture, $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}");

    internal static PostmasterPid ReadPostmasterPid(string dataDir)
    {
        var path = Path.Combine(dataDir, "postmaster.pid");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw Unreadable(dataDir, path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RefusedException($"{Setting} {dataDir} has no postmaster.pid: no server runs on it, so it is not the connected server's data directory; nothing was written");
        }
        return lines.Length >= 4
            && long.TryParse(lines[2].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            && int.TryParse(lines[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new PostmasterPid(start, port)
            : throw new RefusedException($"{Setting} {dataDir}'s postmaster.pid lacks a start time and port: the server is still starting or the file is not PostgreSQL's; nothing was written");
    }

    /// <summary>Extra tablespaces live outside the directory (pg_tblspc's links): this mode copies the data directory only.</summary>
    internal static void RefuseTablespaces(string dataDir)
    {
        var tablespaces = Path.Combine(dataDir, "pg_tblspc");
        string[] entries;
        try
        {
            entries = Directory.Exists(tablespaces) ? Directory.GetFileSystemEntries(tablespaces) : [];
        }
        catch (UnauthorizedAccessException)
        {
            throw Unreadable(dataDir, tablespaces);
        }
        if (entries.Length > 0)
        {
            throw new ConfigurationException($"the server has {entries.Length} extra tablespace(s) ({string.Join(", ", entries.Select(Path.GetFileName).Order(StringComparer.Ordinal))} in pg_tblspc), which {Setting} does not back up: unset {Setting} to back up with pg_basebackup; nothing was written");
        }
    }

    private static ConfigurationException Unreadable(string dataDir, string path) =>
        new($"cannot read {path}: with {Setting} floyo-dr reads the data directory itself and must run as the database server's OS user (the owner of {dataDir}); nothing was written");

    private static async Task<ulong> SystemIdentifierAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT system_identifier::text FROM pg_control_system()", connection);
            return ulong.Parse((string)(await command.ExecuteScalarAsync(ct))!, CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState == "42501")
        {
            throw new ConfigurationException($"the login may not call pg_control_system(), which proves {Setting} is the server's own directory: GRANT EXECUTE ON FUNCTION pg_control_system() to it, or unset {Setting}; nothing was written", e);
        }
    }

    private static string Show(long epochSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(epochSeconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
