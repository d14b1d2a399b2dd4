using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Breach;

/// <summary>Breach workflow log events, EventIds 6200-6299 (secrets/breach block).</summary>
internal static partial class BreachLogs
{
    [LoggerMessage(EventId = 6200, Level = LogLevel.Warning, Message = "Breach recovery {InstanceId} (incident {IncidentId}) started by {RequestedBy}: breach since {Since:O}, target {Target}")]
    public static partial void BreachStarted(this ILogger logger, string instanceId, string incidentId, string requestedBy, DateTimeOffset since, string target);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message = "Breach recovery {InstanceId} waits until {Deadline:O} for someone other than {RequestedBy} to approve restoring {Backup}")]
    public static partial void BreachAwaitingApproval(this ILogger logger, string instanceId, string backup, string requestedBy, DateTimeOffset deadline);

    [LoggerMessage(EventId = 6204, Level = LogLevel.Critical, Message = "Breach recovery {InstanceId}: nobody approved the restore within {Timeout}; nothing was restored and {Target} stays isolated")]
    public static partial void BreachApprovalTimedOut(this ILogger logger, string instanceId, TimeSpan timeout, string target);

    [LoggerMessage(EventId = 6205, Level = LogLevel.Critical, Message = "Breach recovery {InstanceId} failed: {Error}. {Target} stays isolated; after investigating, give access back with: {ReleaseSql}")]
    public static partial void BreachFailed(this ILogger logger, string instanceId, string error, string target, string releaseSql);

    [LoggerMessage(EventId = 6206, Level = LogLevel.Warning, Message = "Breach recovery {InstanceId}: {Target} restored from {Backup}, verified, access given back")]
    public static partial void BreachRecovered(this ILogger logger, string instanceId, string target, string backup);

    [LoggerMessage(EventId = 6207, Level = LogLevel.Warning, Message = "Incident {IncidentId}: GDPR notification acknowledged by {By} ({Reminders} reminders sent)")]
    public static partial void GdprAcknowledged(this ILogger logger, string incidentId, string by, int reminders);

    [LoggerMessage(EventId = 6208, Level = LogLevel.Warning, Message = "Incident {IncidentId}: GDPR acknowledgement ignored: {Why}")]
    public static partial void GdprAcknowledgementIgnored(this ILogger logger, string incidentId, string why);

    [LoggerMessage(EventId = 6209, Level = LogLevel.Error, Message = "Breach recovery {InstanceId} refused before any change: {Error}")]
    public static partial void BreachRefused(this ILogger logger, string instanceId, string error);
}
