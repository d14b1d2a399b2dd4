using System.Text.Json.Serialization;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Rotation;

namespace Floyo.Recovery.Workflows.Models;

// Inputs, outputs and the custom status of the breach workflow. They cross the Durable task hub as JSON:
// names, versions and times only, never a credential.

/// <param name="Since">When the breach is believed to have started (ISO 8601 with a zone).</param>
/// <param name="Drill">Run against staging (STAGING_DATABASE_URL): nothing of production is changed.</param>
/// <param name="Unattended">Only with <paramref name="Drill"/>: the drill orchestration approves the restore and acknowledges the GDPR reminder itself.</param>
public sealed record BreachRecoveryInput(
    string? Since,
    string Reason,
    string RequestedBy,
    bool Drill = false,
    bool Unattended = false,
    RetrySettings? Retry = null);

/// <summary>The settings the workflow runs by, read by an activity (orchestrators read no configuration).</summary>
public sealed record BreachSettings(TimeSpan ApprovalTimeout, TimeSpan ReminderInterval, double RotationGraceSeconds);

[JsonConverter(typeof(JsonStringEnumConverter<BreachOutcome>))]
public enum BreachOutcome
{
    /// <summary>Contained, restored from the clean backup, verified, and access given back.</summary>
    Recovered,

    /// <summary>Contained, but nobody approved the restore in time: nothing restored, the database stays isolated.</summary>
    ApprovalTimedOut,

    /// <summary>A step failed after the incident began: what was done stays done (isolation included), and the report says where it stopped.</summary>
    Failed,
}

/// <summary>The stages the workflow shows in its custom status, in order.</summary>
public static class BreachStages
{
    public const string Checking = "checking";
    public const string CapturingEvidence = "capturing-evidence";
    public const string Isolating = "isolating";
    public const string HoldingBackups = "holding-backups";
    public const string RotatingCredentials = "rotating-credentials";
    public const string AwaitingApproval = "awaiting-approval";
    public const string Restoring = "restoring";
    public const string Verifying = "verifying";
    public const string ResumingWrites = "resuming-writes";
    public const string WritingPostMortem = "writing-post-mortem";
    public const string AwaitingGdprNotification = "awaiting-gdpr-notification";
    public const string Failed = "failed";
    public const string Done = "done";
}

/// <summary>The external event that says the supervisory authority has been notified (GDPR Art. 33).</summary>
public sealed record GdprAcknowledgement(string By, string? Comment = null);

/// <summary>What the workflow shows while it runs (Durable custom status): enough to approve from.</summary>
public sealed record BreachProgress(
    string Stage,
    string? Detail,
    string RequestedBy,
    bool Drill,
    string? IncidentId = null,
    BreachTarget? Target = null,
    CleanBackupChoice? Backup = null,
    DateTimeOffset? ApprovalDeadline = null,
    DateTimeOffset? NotifyBy = null,
    BreachOutcome? Outcome = null,
    string? PostMortem = null,
    string? ReleaseSql = null);

/// <summary>The credentials the workflow manages, as the secret store holds them now (names and roles only).</summary>
public sealed record ManagedCredentials(string Store, string DatabaseSecret, bool DatabaseSecretExists, string? CurrentRole, string? NextRole, IReadOnlyList<string> RandomSecrets);

/// <summary>What became of the managed credentials: rotated, or, in a drill, only named.</summary>
public sealed record CredentialRevocation(bool Rehearsed, ManagedCredentials Managed, IReadOnlyList<RotationOutcome> Rotated);

public sealed record EvidenceInput(Incident Incident, IReadOnlyList<TimelineEntry> Timeline, string? Label = null);

public sealed record BreachRestoreInput(Incident Incident, string Backup);

/// <summary>The restored database checked: integrity against the backup, and still closed to the application until release.</summary>
public sealed record BreachVerification(IReadOnlyList<string> Problems, IReadOnlyList<string> StillCanConnect)
{
    public bool Passed => Problems.Count == 0 && StillCanConnect.Count == 0;
}

public sealed record GdprNotificationInput(Incident Incident, TimeSpan ReminderInterval, bool Unattended);

public sealed record GdprNotificationResult(string AcknowledgedBy, DateTimeOffset AcknowledgedAt, bool WithinDeadline, int RemindersSent, string? Comment);

public sealed record GdprRecordInput(Incident Incident, GdprNotificationResult Result);

/// <summary>The breach workflow's result: what it did, in order, and where it stopped.</summary>
public sealed record BreachReport(
    string InstanceId,
    string IncidentId,
    BreachOutcome Outcome,
    bool Drill,
    string RequestedBy,
    string Reason,
    DateTimeOffset Since,
    DateTimeOffset StartedAt,
    DateTimeOffset RecoveryFinishedAt,
    BreachTarget Target,
    CleanBackupChoice Backup,
    string? ApprovedBy,
    IsolationResult? Isolation,
    HeldBackups? Holds,
    CredentialRevocation? Credentials,
    IReadOnlyList<EvidenceManifest> Evidence,
    RestoreResult? Restored,
    BreachVerification? Verification,
    bool WritesResumed,
    string? PostMortem,
    DateTimeOffset NotifyBy,
    GdprNotificationResult? Gdpr,
    IReadOnlyList<TimelineEntry> Timeline,
    string? Error,
    string? ReleaseSql)
{
    /// <summary>Detection to verified service (the breach's own RTO).</summary>
    public double RecoverySeconds => Math.Round((RecoveryFinishedAt - StartedAt).TotalSeconds, 3);
}
