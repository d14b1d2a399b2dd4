using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Checks;

/// <summary>
/// Replication lag as the server sees it. On a primary: every standby in <c>pg_stat_replication</c>, its
/// <c>replay_lag</c> and the bytes it has not replayed (and CHECK_EXPECTED_STANDBYS, when set). On a standby:
/// <c>now() - pg_last_xact_replay_timestamp()</c>, counted as caught up when everything received is replayed
/// (an idle primary writes no new transactions). Reading other sessions' lag needs <c>pg_monitor</c>, not superuser.
/// </summary>
public sealed class ReplicationLagCheck(DatabaseConnections connections, IOptions<DatabaseOptions> database, IOptions<CheckOptions> options, IOptions<RecoveryTargetOptions> targets) : ICheck
{
    public string Name => "replication-lag";

    private sealed record Standby(string Name, string? State, double? LagSeconds, double? BehindBytes);

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        if (!ProtectedDatabase.IsConfigured(database))
        {
            return CheckResult.NotConfigured(Name, "DATABASE_URL is not set");
        }
        await using var connection = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        await using (var recovery = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection))
        {
            if ((bool)(await recovery.ExecuteScalarAsync(ct))!)
            {
                return await StandbyAsync(connection, ct);
            }
        }
        return await PrimaryAsync(connection, ct);
    }

    private async Task<CheckResult> PrimaryAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            SELECT coalesce(nullif(application_name, ''), client_addr::text, 'local'), state,
                   EXTRACT(EPOCH FROM replay_lag)::float8, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8
            FROM pg_stat_replication
            """;
        var standbys = new List<Standby>();
        await using (var command = new NpgsqlCommand(sql, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                standbys.Add(new Standby(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetDouble(2), reader.IsDBNull(3) ? null : reader.GetDouble(3)));
            }
        }
        var expected = options.Value.ExpectedStandbys;
        if (standbys.Count == 0)
        {
            return expected > 0
                ? CheckResult.Finding(Name, NotificationSeverity.Critical, $"no standby is streaming from this primary; CHECK_EXPECTED_STANDBYS is {expected}", 0, "standbys")
                : CheckResult.NotConfigured(Name, "no standby streams from this server (set CHECK_EXPECTED_STANDBYS to require one)");
        }
        if (standbys.All(s => s.State is null))
        {
            // pg_stat_replication hides the columns of other roles' sessions from a role without pg_read_all_stats.
            return CheckResult.NotConfigured(Name, $"{standbys.Count} standby(s) stream from this server, but this login cannot read their lag: GRANT pg_monitor TO the DATABASE_URL role");
        }
        var worst = standbys.Max(s => s.LagSeconds ?? 0);
        var problems = new List<string>();
        var severity = NotificationSeverity.Warning;
        if (expected > 0 && standbys.Count(s => s.State == "streaming") < expected)
        {
            problems.Add($"{standbys.Count(s => s.State == "streaming")} of CHECK_EXPECTED_STANDBYS {expected} standbys are streaming");
            severity = NotificationSeverity.Critical;
        }
        foreach (var s in standbys.Where(s => s.LagSeconds is { } lag && lag > options.Value.ReplicationLagMax.TotalSeconds))
        {
            var lag = TimeSpan.FromSeconds(s.LagSeconds!.Value);
            problems.Add($"standby {s.Name} replays {CheckText.Duration(lag)} behind ({CheckText.Bytes(s.BehindBytes ?? 0)} of WAL)");
            if (lag > targets.Value.RpoTarget)
            {
                severity = NotificationSeverity.Critical;
            }
        }
        var summary = string.Join(", ", standbys.Select(s => $"{s.Name} {s.State} lag {CheckText.Duration(TimeSpan.FromSeconds(s.LagSeconds ?? 0))}"));
        return problems.Count > 0
            ? CheckResult.Finding(Name, severity, $"{string.Join("; ", problems)} (limit {CheckText.Duration(options.Value.ReplicationLagMax)}; critical past RPO_TARGET)", worst, "s")
            : CheckResult.Ok(Name, $"primary with {standbys.Count} standby(s): {summary}", worst, "s");
    }

    private async Task<CheckResult> StandbyAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8,
                   coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false)
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var lagSeconds = reader.IsDBNull(0) ? (double?)null : Math.Max(0, reader.GetDouble(0));
        var caughtUp = reader.GetBoolean(1);
        if (lagSeconds is null)
        {
            return CheckResult.Ok(Name, "standby: no transaction replayed yet since it started");
        }
        var lag = TimeSpan.FromSeconds(lagSeconds.Value);
        if (caughtUp || lag <= options.Value.ReplicationLagMax)
        {
            return CheckResult.Ok(Name, caughtUp
                ? $"standby: everything received is replayed (last replayed transaction {CheckText.Duration(lag)} ago)"
                : $"standby: replay {CheckText.Duration(lag)} behind the primary (limit {CheckText.Duration(options.Value.ReplicationLagMax)})", caughtUp ? 0 : lagSeconds, "s");
        }
        return CheckResult.Finding(Name, lag > targets.Value.RpoTarget ? NotificationSeverity.Critical : NotificationSeverity.Warning,
            $"standby: replay is {CheckText.Duration(lag)} behind the primary, over CHECK_REPLICATION_LAG_MAX {CheckText.Duration(options.Value.ReplicationLagMax)}", lagSeconds, "s");
    }
}
