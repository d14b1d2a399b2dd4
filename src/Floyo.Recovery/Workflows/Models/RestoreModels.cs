using Floyo.Recovery.Storage;
using System.Text.Json.Serialization;

namespace Floyo.Recovery.Workflows.Models;

[JsonConverter(typeof(JsonStringEnumConverter<RestoreSource>))]
public enum RestoreSource
{
    Http,
    Cli,
}

[JsonConverter(typeof(JsonStringEnumConverter<RestoreOutcome>))]
public enum RestoreOutcome
{
    /// <summary>Restored, checked, and writes given back.</summary>
    Restored,

    /// <summary>Nobody approved in time: nothing was touched.</summary>
    ApprovalTimedOut,

    /// <summary>Failed before writes were stopped: the target is as it was.</summary>
    Failed,

    /// <summary>Failed after writes were stopped: they stay stopped until an operator reopens them.</summary>
    FailedWritesStopped,
}

/// <param name="TargetDatabase">Null: the database of DATABASE_URL.</param>
/// <param name="Source">Reported only. Whether approval is needed is decided by the workflow from facts its plan
/// activity establishes (RestorePlanned.ApprovalRequired), never from the input: anyone able to start an
/// orchestration could write any input.</param>
public sealed record RestoreWorkflowInput(
    string Backup,
    string? TargetDatabase,
    bool DropExisting,
    string Reason,
    string RequestedBy,
    RestoreSource Source,
    TimeSpan ApprovalTimeout,
    RetrySettings? Retry = null,
    BackupSource From = BackupSource.Primary);

public sealed record RestorePlanInput(string Backup, string? TargetDatabase, bool DropExisting, BackupSource From = BackupSource.Primary);

/// <param name="ApprovalRequired">Established by the plan activity: the target is DATABASE_URL's database, or RESTORE_APPROVAL_REQUIRED is set.</param>
/// <param name="RequesterMayApprove">Only in floyo-dr's own process, and only when RESTORE_APPROVAL_REQUIRED is off: the person at the
/// terminal who asked for the restore approves it (the command raises the approval in their name).</param>
public sealed record RestorePlanned(
    string Backup,
    string Sha256,
    long SizeBytes,
    string Server,
    string TargetDatabase,
    bool TargetExists,
    bool ReplacesExisting,
    bool IsProductionDatabase,
    bool ApprovalRequired = true,
    bool RequesterMayApprove = false);

public sealed record StopWritesInput(string InstanceId, string TargetDatabase);

public sealed record RestoreStepInput(string Backup, string TargetDatabase, bool DropExisting, Restores.WriteFreeze Freeze, BackupSource From = BackupSource.Primary);

/// <param name="VerifiedOid">The database whose rows were already proven (RestoreResult.DatabaseOid); 0: count rows again.</param>
public sealed record IntegrityInput(string Backup, string TargetDatabase, BackupSource From = BackupSource.Primary, uint VerifiedOid = 0);

public sealed record IntegrityReport(string TargetDatabase, bool Passed, IReadOnlyList<string> Problems);

/// <summary>What the restore workflow shows while it runs (Durable custom status).</summary>
public sealed record RestoreProgress(string Stage, string? Detail = null, string? RequestedBy = null, DateTimeOffset? ApprovalDeadline = null, RestorePlanned? Plan = null);

public sealed record RestoreReport(
    string InstanceId,
    RestoreOutcome Outcome,
    string Backup,
    string? TargetDatabase,
    string? Server,
    bool ReplacedExisting,
    string RequestedBy,
    string? ApprovedBy,
    string Reason,
    RestoreSource Source,
    bool WritesStopped,
    bool WritesResumed,
    DateTimeOffset RequestedAt,
    DateTimeOffset FinishedAt,
    double DurationSeconds,
    double? ApprovalWaitSeconds,
    double? RestoreSeconds,
    IReadOnlyList<string> CreatedRoles,
    IReadOnlyList<string> Problems,
    string? Error,
    string? ResumeSql);
