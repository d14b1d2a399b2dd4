using System.Text.Json.Serialization;
using Floyo.Recovery.Notifications;

namespace Floyo.Recovery.Incidents;

// Incidents a workflow opens by itself: a failed restore, a breach, a failed drill in production. Each cause has
// a deterministic key, so a retried activity or a replayed orchestration opens nothing twice, and a second
// failure of the same cause lands on the same open incident as a change.

[JsonConverter(typeof(JsonStringEnumConverter<IncidentCause>))]
public enum IncidentCause
{
    /// <summary>A restore workflow failed (the approval timing out is not a failure: nothing was touched).</summary>
    RestoreFailed,

    /// <summary>A breach recovery started: a breach is an incident from its first step.</summary>
    Breach,

    /// <summary>A DR drill failed where drills count as production (INCIDENT_ON_DRILL_FAILURE).</summary>
    DrillFailed,
}

/// <summary>
/// What a workflow reports. <paramref name="Key"/> names the cause (a restore target, a breach, a drill scenario);
/// <paramref name="Occurrence"/> is the workflow instance, the same on every replay and retry.
/// Text only from names and error messages, scrubbed of anything that looks like a credential.
/// </summary>
public sealed record IncidentTrigger(
    IncidentCause Cause,
    string Key,
    string Occurrence,
    string Title,
    NotificationSeverity Severity,
    string Source,
    string Stage,
    string Detail,
    TimeSpan? ProjectedRto = null);

/// <param name="IncidentId">Null when nothing was opened (a drill where drills are not production).</param>
/// <param name="Opened">This occurrence opened it: its communication workflow is to be started (once).</param>
/// <param name="Change">A later occurrence of the same cause, recorded on the open incident: to be raised into its workflow.</param>
/// <param name="Skipped">Why nothing was opened, when nothing was.</param>
public sealed record RaisedIncident(string? IncidentId, bool Opened, IncidentChange? Change, string? Skipped = null);

/// <summary>A workflow's stage recorded on its incident; <paramref name="Occurrence"/> makes a replayed or retried one a no-op.</summary>
public sealed record IncidentStageInput(string IncidentId, string Occurrence, string By, string Stage, string? Message);
