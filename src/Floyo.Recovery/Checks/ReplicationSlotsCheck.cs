using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Checks;

/// <summary>
/// Replication slots hold WAL back until their consumer reads it: an inactive slot or one retaining more than
/// CHECK_SLOT_RETAINED_MAX_BYTES fills the server's disk (a warning), a slot whose WAL is already lost is
/// critical (its standby or consumer cannot continue). <c>pg_replication_slots</c> is readable by any role.
/// </summary>
public sealed class ReplicationSlotsCheck(DatabaseConnections connections, IOptions<DatabaseOptions> database, IOptions<CheckOptions> options) : ICheck
{
    public string Name => "replication-slots";

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        if (!ProtectedDatabase.IsConfigured(database))
        {
            return CheckResult.NotConfigured(Name, "DATABASE_URL is not set");
        }
        await using var connection = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        const string sql = """
            SELECT slot_name, slot_type, active, wal_status,
                   pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::float8
            FROM pg_replication_slots ORDER BY slot_name
            """;
        var problems = new List<string>();
        var severity = NotificationSeverity.Warning;
        var count = 0;
        double retainedTotal = 0, worst = 0;
        var limit = options.Value.SlotRetainedMaxBytes;
        await using (var command = new NpgsqlCommand(sql, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                count++;
                var (name, type, active) = (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2));
                var walStatus = reader.IsDBNull(3) ? null : reader.GetString(3);
                var retained = reader.IsDBNull(4) ? 0 : Math.Max(0, reader.GetDouble(4));
                retainedTotal += retained;
                worst = Math.Max(worst, retained);
                if (walStatus == "lost")
                {
                    problems.Add($"{type} slot {name} has lost WAL it needs: its consumer cannot continue");
                    severity = NotificationSeverity.Critical;
                }
                else if (!active)
                {
                    problems.Add($"{type} slot {name} is inactive and holds {CheckText.Bytes(retained)} of WAL");
                }
                else if (retained > limit)
                {
                    problems.Add($"{type} slot {name} holds {CheckText.Bytes(retained)} of WAL");
                }
            }
        }
        if (count == 0)
        {
            return CheckResult.NotConfigured(Name, "no replication slot on this server");
        }
        return problems.Count > 0
            ? CheckResult.Finding(Name, severity, $"{string.Join("; ", problems)} (CHECK_SLOT_RETAINED_MAX_BYTES {CheckText.Bytes(limit)})", worst, "bytes")
            : CheckResult.Ok(Name, $"{count} slot(s) active, holding {CheckText.Bytes(retainedTotal)} of WAL in all", worst, "bytes");
    }
}
