using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Breach;

/// <summary>What isolation found before changing anything, so that resuming writes restores exactly that.</summary>
public sealed record IsolationRecord(
    string IncidentId,
    string Database,
    bool Skipped,
    IReadOnlyList<string> RolesWithConnect,
    IReadOnlyList<string> MissingRoles,
    bool PublicHadConnect,
    DateTimeOffset At);

public sealed record IsolationResult(IsolationRecord Record, int SessionsEnded, IReadOnlyList<string> StillCanConnect);

/// <summary>
/// Cuts the application off its database: revokes CONNECT from the application roles (and from PUBLIC,
/// which PostgreSQL grants it by default), then ends their sessions, in that order so none can reconnect
/// in between. What held CONNECT beforehand is recorded in the store before anything changes, so a rerun
/// after a crash, and later the release, know the original state.
/// </summary>
public sealed partial class DatabaseIsolator(
    DatabaseConnections connections,
    IBackupStore store,
    IOptions<RotationOptions> rotation,
    IOptions<BreachOptions> breach,
    TimeProvider clock,
    ILogger<DatabaseIsolator> logger)
{
    public static string RecordName(string incidentId) => $"incidents/{incidentId}/isolation.json";

    public async Task<IsolationResult> IsolateAsync(Incident incident, CancellationToken ct)
    {
        var server = await connections.DatabaseAsync(ct);
        var database = rotation.Value.Database ?? server.Database!;
        var roles = breach.Value.RolesToIsolate(rotation.Value);
        if (!breach.Value.Isolate)
        {
            LogSkipped(logger, incident.Id);
            return new IsolationResult(new IsolationRecord(incident.Id, database, true, [], [], false, clock.GetUtcNow()), 0, []);
        }
        await using var admin = await PgConnector.OpenAsync(server, ct);
        var record = await ReadRecordAsync(incident.Id, ct);
        if (record is null)
        {
            var (withConnect, missing, publicHad) = await ReadAccessAsync(admin, database, roles, ct);
            record = new IsolationRecord(incident.Id, database, false, withConnect, missing, publicHad, clock.GetUtcNow());
            await store.WriteAllAsync(RecordName(incident.Id), JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);
        }

        var db = PgConnector.Quote(database);
        foreach (var role in roles.Except(record.MissingRoles))
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM {PgConnector.Quote(role)}", ct);
        }
        if (breach.Value.IsolatePublic)
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM PUBLIC", ct);
        }
        var ended = 0;
        foreach (var role in roles.Except(record.MissingRoles))
        {
            ended += await Rotation.LoginRoles.EndSessionsAsync(admin, role, ct);
        }
        var still = new List<string>();
        foreach (var role in roles.Except(record.MissingRoles))
        {
            if ((await Rotation.LoginRoles.AccessAsync(admin, role, database, ct)).CanConnect)
            {
                still.Add(role);
            }
        }
        if (still.Count > 0)
        {
            LogStillConnect(logger, string.Join(", ", still), database);
        }
        LogIsolated(logger, incident.Id, database, ended);
        return new IsolationResult(record, ended, still);
    }

    /// <summary>Resumes access as it was before isolation: CONNECT back to exactly the roles (and PUBLIC) that had it.</summary>
    public async Task<IsolationRecord?> ReleaseAsync(string incidentId, CancellationToken ct)
    {
        var record = await ReadRecordAsync(incidentId, ct);
        if (record is null || record.Skipped)
        {
            return record;
        }
        await using var admin = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        var db = PgConnector.Quote(record.Database);
        foreach (var role in record.RolesWithConnect)
        {
            if (await Rotation.LoginRoles.ExistsAsync(admin, role, ct))
            {
                await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {db} TO {PgConnector.Quote(role)}", ct);
            }
        }
        if (record.PublicHadConnect)
        {
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {db} TO PUBLIC", ct);
        }
        LogReleased(logger, incidentId, record.Database);
        return record;
    }

    private async Task<IsolationRecord?> ReadRecordAsync(string incidentId, CancellationToken ct)
    {
        if (await store.GetAsync(RecordName(incidentId), ct) is null)
        {
            return null;
        }
        await using var stream = await store.OpenReadAsync(RecordName(incidentId), ct);
        return await JsonSerializer.DeserializeAsync<IsolationRecord>(stream, Json.Options, ct);
    }

    /// <summary>Explicit CONNECT grants on the database (its ACL, or the default ACL when it has none).</summary>
    private static async Task<(List<string> WithConnect, List<string> Missing, bool PublicHad)> ReadAccessAsync(NpgsqlConnection admin, string database, IReadOnlyList<string> roles, CancellationToken ct)
    {
        const string sql = """
            SELECT coalesce(r.rolname, 'PUBLIC') FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
            LEFT JOIN pg_roles r ON r.oid = a.grantee
            WHERE d.datname = $1 AND a.privilege_type = 'CONNECT'
            """;
        var grantees = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = database } } })
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                grantees.Add(reader.GetString(0));
            }
        }
        var missing = new List<string>();
        foreach (var role in roles)
        {
            if (!await Rotation.LoginRoles.ExistsAsync(admin, role, ct))
            {
                missing.Add(role);
            }
        }
        return ([.. roles.Where(grantees.Contains)], missing, grantees.Contains("PUBLIC"));
    }

    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "Incident {IncidentId}: isolated {Database}, ended {Sessions} application sessions")]
    private static partial void LogIsolated(ILogger logger, string incidentId, string database, int sessions);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Incident {IncidentId}: isolation is switched off (BREACH_ISOLATE=false)")]
    private static partial void LogSkipped(ILogger logger, string incidentId);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "After isolation these roles can still connect to {Database} (superuser, or CONNECT through another role): {Roles}")]
    private static partial void LogStillConnect(ILogger logger, string roles, string database);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Incident {IncidentId}: access to {Database} restored as it was before isolation")]
    private static partial void LogReleased(ILogger logger, string incidentId, string database);
}
