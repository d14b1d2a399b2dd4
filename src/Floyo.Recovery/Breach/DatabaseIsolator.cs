using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Access;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Breach;

/// <summary>
/// What isolation found before changing anything, so that resuming writes restores exactly that.
/// <paramref name="InheritedFrom"/>: an earlier incident on the same database that isolated it and never
/// released it; its record, not the (already isolated) ACL, holds the state to go back to.
/// <paramref name="AdminGranted"/>: a non-superuser admin that held no CONNECT of its own and was granted it
/// before PUBLIC's was revoked (else it would lock itself out of the restore); the release takes it away again.
/// </summary>
public sealed record IsolationRecord(
    string IncidentId,
    string Database,
    bool Skipped,
    IReadOnlyList<string> RolesWithConnect,
    IReadOnlyList<string> MissingRoles,
    bool PublicHadConnect,
    DateTimeOffset At,
    string? Server = null,
    string? InheritedFrom = null,
    string? AdminGranted = null)
{
    /// <summary>The statement that gives access back, for an operator when the workflow does not (approval timed out, restore failed).</summary>
    public string ReleaseSql
    {
        get
        {
            var grantees = RolesWithConnect.Select(PgConnector.Quote).Concat(PublicHadConnect ? ["PUBLIC"] : []).ToList();
            return Skipped || grantees.Count == 0
                ? "-- nothing to give back"
                : $"GRANT CONNECT ON DATABASE {PgConnector.Quote(Database)} TO {string.Join(", ", grantees)}";
        }
    }
}

public sealed record IsolationResult(IsolationRecord Record, int SessionsEnded, IReadOnlyList<string> StillCanConnect);

/// <summary>
/// Cuts the application off its database: revokes CONNECT from the application roles (and from PUBLIC,
/// which PostgreSQL grants it by default), then ends their sessions on that database, in that order so
/// none can reconnect in between. What held CONNECT beforehand is recorded in the store before anything
/// changes, so a rerun after a crash, and later the release, know the original state. Works on the
/// breach target (<see cref="BreachTargets"/>): in a drill, the staging database only.
/// </summary>
public sealed partial class DatabaseIsolator(
    BreachTargets targets,
    IBackupStore store,
    IOptions<RotationOptions> rotation,
    IOptions<BreachOptions> breach,
    TimeProvider clock,
    ILogger<DatabaseIsolator> logger)
{
    public static string RecordName(string incidentId) => $"incidents/{incidentId}/isolation.json";

    public static string ReleasedName(string incidentId) => $"incidents/{incidentId}/isolation-released.json";

    private IReadOnlyList<string> Roles => breach.Value.RolesToIsolate(rotation.Value);

    public async Task<IsolationResult> IsolateAsync(Incident incident, CancellationToken ct)
    {
        var target = await targets.ConnectionAsync(incident.Drill, ct);
        var database = target.Database!;
        var server = $"{target.Host}:{target.Port}";
        if (!breach.Value.Isolate)
        {
            LogSkipped(logger, incident.Id);
            return new IsolationResult(new IsolationRecord(incident.Id, database, true, [], [], false, clock.GetUtcNow(), server), 0, []);
        }
        await using var admin = await PgConnector.OpenAsync(target, ct);
        var record = await ReadAsync<IsolationRecord>(RecordName(incident.Id), ct);
        if (record is null)
        {
            var (withConnect, missing, publicHad) = await ReadAccessAsync(admin, database, Roles, ct);
            var adminGranted = await AdminCapabilities.IsSuperuserAsync(admin, ct) || await HoldsConnectItselfAsync(admin, database, ct)
                ? null
                : await AdminCapabilities.CurrentUserAsync(admin, ct);
            record = new IsolationRecord(incident.Id, database, false, withConnect, missing, publicHad, clock.GetUtcNow(), server, AdminGranted: adminGranted);
            if (await FindUnreleasedAsync(incident.Id, server, database, ct) is { } earlier)
            {
                record = record with { RolesWithConnect = earlier.RolesWithConnect, PublicHadConnect = earlier.PublicHadConnect, InheritedFrom = earlier.IncidentId, AdminGranted = earlier.AdminGranted ?? adminGranted };
                LogInherited(logger, incident.Id, earlier.IncidentId, database);
            }
            await store.WriteAllAsync(RecordName(incident.Id), JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);
        }

        if (record.AdminGranted is { } kept)
        {
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(database)} TO {PgConnector.Quote(kept)}", ct);
        }
        await CloseAsync(admin, database, record.MissingRoles, ct);
        var ended = await EndSessionsAsync(admin, database, Roles.Except(record.MissingRoles).ToList(), ct);
        var still = new List<string>();
        foreach (var role in Roles.Except(record.MissingRoles))
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

    /// <summary>
    /// Runs on a restored copy just before it takes the target's name: it gets the target's CONNECT grants as
    /// they are now (isolated), so the application cannot reach it until the release. A restored database
    /// otherwise carries PostgreSQL's default, CONNECT for PUBLIC.
    /// </summary>
    public async Task CloseRestoredAsync(NpgsqlConnection admin, string restored, string target, CancellationToken ct)
    {
        var targetGrantees = await ConnectGate.ReadHoldersAsync(admin, target, ct);
        var restoredGrantees = await ConnectGate.ReadHoldersAsync(admin, restored, ct);
        var db = PgConnector.Quote(restored);
        foreach (var grantee in restoredGrantees.Except(targetGrantees))
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM {ConnectGate.Grantee(grantee)}", ct);
        }
        foreach (var grantee in targetGrantees.Except(restoredGrantees))
        {
            if (grantee == ConnectGate.Public || await Rotation.LoginRoles.ExistsAsync(admin, grantee, ct))
            {
                await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {db} TO {ConnectGate.Grantee(grantee)}", ct);
            }
        }
    }

    /// <summary>Resumes access as it was before isolation: CONNECT back to exactly the roles (and PUBLIC) that had it.</summary>
    public async Task<IsolationRecord?> ReleaseAsync(Incident incident, CancellationToken ct)
    {
        var record = await ReadAsync<IsolationRecord>(RecordName(incident.Id), ct);
        if (record is null || record.Skipped)
        {
            return record;
        }
        await using var admin = await PgConnector.OpenAsync(await targets.ConnectionAsync(incident.Drill, ct), ct);
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
        if (record.AdminGranted is { } kept && await Rotation.LoginRoles.ExistsAsync(admin, kept, ct))
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM {PgConnector.Quote(kept)}", ct);
        }
        if (await store.GetAsync(ReleasedName(incident.Id), ct) is null)
        {
            var released = new { incidentId = incident.Id, database = record.Database, server = record.Server, at = clock.GetUtcNow() };
            await store.WriteAllAsync(ReleasedName(incident.Id), JsonSerializer.SerializeToUtf8Bytes(released, Json.Options), ObjectRetention.None, ct);
        }
        LogReleased(logger, incident.Id, record.Database);
        return record;
    }

    private async Task CloseAsync(NpgsqlConnection admin, string database, IReadOnlyList<string> missing, CancellationToken ct)
    {
        var db = PgConnector.Quote(database);
        foreach (var role in Roles.Except(missing))
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM {PgConnector.Quote(role)}", ct);
        }
        if (breach.Value.IsolatePublic)
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM PUBLIC", ct);
        }
    }

    /// <summary>Ends the roles' sessions on this database only: other databases on a shared server (production, beside staging) are not ours to touch.</summary>
    private static async Task<int> EndSessionsAsync(NpgsqlConnection admin, string database, IReadOnlyList<string> roles, CancellationToken ct)
    {
        const string sql = """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = $1 AND usename = ANY($2::text[]) AND pid <> pg_backend_pid()
              -- a non-superuser admin cannot end a superuser's session; such a role is reported as still able to connect
              AND (NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = usesysid AND r.rolsuper) OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))
            """;
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = database }, new() { Value = roles.ToArray() } } };
        return (int)(long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The oldest other incident that isolated this database and has not released it.</summary>
    private async Task<IsolationRecord?> FindUnreleasedAsync(string incidentId, string server, string database, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var item in store.ListAsync("incidents/", ct))
        {
            names.Add(item.Name);
        }
        var released = names.Where(n => n.EndsWith("/isolation-released.json", StringComparison.Ordinal)).Select(n => n.Split('/')[1]).ToHashSet(StringComparer.Ordinal);
        IsolationRecord? oldest = null;
        foreach (var name in names.Where(n => n.EndsWith("/isolation.json", StringComparison.Ordinal)))
        {
            var id = name.Split('/')[1];
            if (id == incidentId || released.Contains(id) || await ReadAsync<IsolationRecord>(name, ct) is not { Skipped: false } other)
            {
                continue;
            }
            if (other.Database == database && other.Server == server && (oldest is null || other.At < oldest.At))
            {
                oldest = other;
            }
        }
        return oldest;
    }

    private Task<T?> ReadAsync<T>(string name, CancellationToken ct) where T : class =>
        StoredJson.ReadRequiredAsync<T>(store, name, "compare the database's CONNECT grants and the roles' LOGIN by hand", ct);

    /// <summary>Whether the admin holds CONNECT in its own name (an explicit grant, or as the owner), not only through PUBLIC or a role.</summary>
    private static async Task<bool> HoldsConnectItselfAsync(NpgsqlConnection admin, string database, CancellationToken ct) =>
        (await ConnectGate.ReadHoldersAsync(admin, database, ct)).Contains(await AdminCapabilities.CurrentUserAsync(admin, ct));

    /// <summary>Explicit CONNECT grants on the database (its ACL, or the default ACL when it has none).</summary>
    private static async Task<(List<string> WithConnect, List<string> Missing, bool PublicHad)> ReadAccessAsync(NpgsqlConnection admin, string database, IReadOnlyList<string> roles, CancellationToken ct)
    {
        var grantees = (await ConnectGate.ReadHoldersAsync(admin, database, ct)).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var role in roles)
        {
            if (!await Rotation.LoginRoles.ExistsAsync(admin, role, ct))
            {
                missing.Add(role);
            }
        }
        return ([.. roles.Where(grantees.Contains)], missing, grantees.Contains(ConnectGate.Public));
    }

    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "Incident {IncidentId}: isolated {Database}, ended {Sessions} application sessions")]
    private static partial void LogIsolated(ILogger logger, string incidentId, string database, int sessions);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Incident {IncidentId}: isolation is switched off (BREACH_ISOLATE=false)")]
    private static partial void LogSkipped(ILogger logger, string incidentId);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "After isolation these roles can still connect to {Database} (superuser, or CONNECT through another role): {Roles}")]
    private static partial void LogStillConnect(ILogger logger, string roles, string database);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Incident {IncidentId}: access to {Database} restored as it was before isolation")]
    private static partial void LogReleased(ILogger logger, string incidentId, string database);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Warning, Message = "Incident {IncidentId}: {Database} is still isolated by incident {Earlier}; its record of the original access is kept")]
    private static partial void LogInherited(ILogger logger, string incidentId, string earlier, string database);
}
