using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Incidents;

/// <summary>Incidents opened by workflows, EventIds 8850-8899.</summary>
internal static partial class AutomaticIncidentLogs
{
    [LoggerMessage(EventId = 8850, Level = LogLevel.Warning, Message = "Incident {IncidentId} opened by {Cause} in {Occurrence}")]
    public static partial void IncidentOpenedByWorkflow(this ILogger logger, string incidentId, IncidentCause cause, string occurrence);

    [LoggerMessage(EventId = 8851, Level = LogLevel.Warning, Message = "Incident {IncidentId} still open: {Cause} again in {Occurrence}, recorded on it")]
    public static partial void IncidentRecurred(this ILogger logger, string incidentId, IncidentCause cause, string occurrence);

    [LoggerMessage(EventId = 8852, Level = LogLevel.Information, Message = "Drill {Occurrence} failed; no incident: {Why}")]
    public static partial void DrillIncidentSkipped(this ILogger logger, string occurrence, string why);

    [LoggerMessage(EventId = 8853, Level = LogLevel.Error, Message = "{InstanceId} could not open or update its incident ({Cause}); its own outcome stands: {Error}")]
    public static partial void IncidentNotRaised(this ILogger logger, string instanceId, IncidentCause cause, string error, Exception exception);
}
