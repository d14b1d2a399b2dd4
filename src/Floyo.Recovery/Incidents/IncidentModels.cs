using System.Text.Json.Serialization;
using Floyo.Recovery.Notifications;

namespace Floyo.Recovery.Incidents;

// The incident of the communication plan: its live state, kept in the backup store and read by the workflow at
// every step. Names, stages and times only, never a credential.

/// <summary>What opens an incident: a person (floyo-dr, HTTP) or a workflow that failed in production.</summary>
/// <param name="Occurrence">What opened it, when a workflow did (its instance id): a retried step opens nothing twice.</param>
public sealed record IncidentOpening(string Title, NotificationSeverity Severity, string Source, string OpenedBy, string Stage, TimeSpan? ProjectedRto = null, string? Summary = null, string? Id = null, string? Occurrence = null);

/// <summary>
/// A change a person reports: a new stage, a message, a new projected RTO (from the start of the incident), or
/// the resolution. It is written to the incident first, then raised into the workflow as an external event.
/// </summary>
public sealed record IncidentChange(int Number, DateTimeOffset At, string By, string? Stage, string? Message, TimeSpan? ProjectedRto, bool Resolves = false);

/// <summary>One thing that happened to the incident, in order: what was reported, and what was sent where.</summary>
public sealed record IncidentEntry(DateTimeOffset At, string Step, string Detail);

[JsonConverter(typeof(JsonStringEnumConverter<IncidentStatus>))]
public enum IncidentStatus
{
    Open,
    Resolved,
}

/// <summary>The incident's live state: <c>incidents/&lt;id&gt;/communication.json</c>.</summary>
public sealed record IncidentRecord(
    string Id,
    string Title,
    NotificationSeverity Severity,
    string Source,
    string OpenedBy,
    DateTimeOffset OpenedAt,
    string Stage,
    TimeSpan? ProjectedRto,
    string? Summary,
    IReadOnlyList<IncidentChange> Changes,
    IReadOnlyList<string> Sent,
    IReadOnlyList<IncidentEntry> Timeline,
    DateTimeOffset? ResolvedAt = null,
    string? Resolution = null,
    string? StatusPageIncident = null,
    string? PublicReport = null,
    string? PostMortem = null,
    IReadOnlyList<string>? Occurrences = null)
{
    public IncidentStatus Status => ResolvedAt is null ? IncidentStatus.Open : IncidentStatus.Resolved;

    /// <summary>Time since opening, up to the resolution once resolved (then it is the actual RTO).</summary>
    public TimeSpan Elapsed(DateTimeOffset now) => (ResolvedAt ?? now) - OpenedAt;

    /// <summary>What the plan's thresholds are measured against: the longer of the time so far and the projection.</summary>
    public TimeSpan RtoMeasure(DateTimeOffset now) => ProjectedRto is { } projected && projected > Elapsed(now) ? projected : Elapsed(now);

    public bool WasSent(string step) => Sent.Contains(step, StringComparer.Ordinal);

    /// <summary>Whether a workflow's failure (or stage) with this key was recorded already: a retry or replay records nothing twice.</summary>
    public bool Saw(string occurrence) => Occurrences?.Contains(occurrence, StringComparer.Ordinal) == true;
}

/// <summary>What the workflow shows while it runs (its custom status).</summary>
public sealed record IncidentCommunicationStatus(string Phase, string IncidentId, string Stage, IncidentStatus Status, int StepsSent, DateTimeOffset? NextAt = null, string? Next = null);

/// <summary>The workflow's input: the incident, which already exists in the store.</summary>
public sealed record IncidentCommunicationInput(string IncidentId);

/// <summary>The workflow's result, once the incident is resolved and its post-mortem written.</summary>
public sealed record IncidentCommunicationResult(string IncidentId, DateTimeOffset OpenedAt, DateTimeOffset ResolvedAt, IReadOnlyList<string> Sent, string? PostMortem, string? PublicReport);

/// <summary>One step of the plan for the workflow's activity: which, for which incident, at the orchestration's time.</summary>
public sealed record CommunicationStepInput(string IncidentId, string Step, DateTimeOffset At);
