using Floyo.Recovery.Access;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
/// Cuts the application off its database for a breach, through the shared <see cref="ConnectGate"/>: revokes
/// CONNECT from the application roles (and from PUBLIC, which PostgreSQL grants by default), ends their
/// sessions on every database, and reports any role that can still connect rather than stopping. The gate
/// records what held CONNECT in the store before anything changes, so a rerun after a crash, and later
/// the release, know the original state.
/// </summary>
public sealed partial class DatabaseIsolator(
    DatabaseConnections connections,
    ConnectGate gate,
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
        if (!breach.Value.Isolate)
        {
            LogSkipped(logger, incident.Id);
            return new IsolationResult(new IsolationRecord(incident.Id, database, true, [], [], false, clock.GetUtcNow()), 0, []);
        }
        await using var admin = await PgConnector.OpenAsync(server, ct);
        var policy = GatePolicy.ForIsolation(breach.Value.RolesToIsolate(rotation.Value), breach.Value.IsolatePublic);
        var closed = await gate.CloseAsync(admin, RecordName(incident.Id), database, policy, ct);
        if (closed.StillCanConnect.Count > 0)
        {
            LogStillConnect(logger, string.Join(", ", closed.StillCanConnect), database);
        }
        LogIsolated(logger, incident.Id, database, closed.SessionsEnded);
        return new IsolationResult(View(incident.Id, closed.Record), closed.SessionsEnded, closed.StillCanConnect);
    }

    /// <summary>Resumes access as it was before isolation: CONNECT back to exactly the roles (and PUBLIC) that had it.</summary>
    public async Task<IsolationRecord?> ReleaseAsync(string incidentId, CancellationToken ct)
    {
        var record = await gate.ReadAsync(RecordName(incidentId), ct);
        if (record is null)
        {
            return null;
        }
        await using var admin = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        await gate.ReopenAsync(admin, record, ct);
        LogReleased(logger, incidentId, record.Database);
        return View(incidentId, record);
    }

    private static IsolationRecord View(string incidentId, GateRecord record) =>
        new(incidentId, record.Database, false, [.. record.Revoked.Where(r => r != ConnectGate.Public)], record.MissingRoles, record.Holders.Contains(ConnectGate.Public), record.At);

    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "Incident {IncidentId}: isolated {Database}, ended {Sessions} application sessions")]
    private static partial void LogIsolated(ILogger logger, string incidentId, string database, int sessions);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Incident {IncidentId}: isolation is switched off (BREACH_ISOLATE=false)")]
    private static partial void LogSkipped(ILogger logger, string incidentId);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "After isolation these roles can still connect to {Database} (superuser, or CONNECT through another role): {Roles}")]
    private static partial void LogStillConnect(ILogger logger, string roles, string database);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Incident {IncidentId}: access to {Database} restored as it was before isolation")]
    private static partial void LogReleased(ILogger logger, string incidentId, string database);
}
