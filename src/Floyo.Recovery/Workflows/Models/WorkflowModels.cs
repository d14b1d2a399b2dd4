using System.Text.Json.Serialization;
using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Workflows.Models;

// Inputs and outputs of orchestrations and activities. They cross the Durable task hub as JSON, so they
// are small records of names, numbers and text: never streams, local paths or the backup's full facts.

/// <summary>Retries of transient failures (server unreachable, restarting); null means the workflow's default policy.</summary>
public sealed record RetrySettings(int MaxAttempts, TimeSpan FirstInterval, double BackoffCoefficient = 2.0, TimeSpan? MaxInterval = null)
{
    /// <summary>One attempt: what an operator at a terminal wants, who sees the error and decides.</summary>
    public static readonly RetrySettings Once = new(1, TimeSpan.FromSeconds(1));
}

[JsonConverter(typeof(JsonStringEnumConverter<WorkflowOutcome>))]
public enum WorkflowOutcome
{
    Succeeded,
    Failed,
    NotAvailable,
}

public sealed record BackupWorkflowInput(BackupType Kind, bool Verify, string Trigger, RetrySettings? Retry = null);

public sealed record BackupTaken(string Name, string Database, string Sha256, long SizeBytes, long DumpBytes, int Tables, long Rows, double DurationSeconds, DateTimeOffset Timestamp, IReadOnlyList<string>? Anomalies = null);

public sealed record ChecksumInput(string Backup, bool RecordMismatch, Storage.BackupSource From = Storage.BackupSource.Primary);

public sealed record VerificationSummary(string Backup, bool Passed, bool ChecksumMatched, string Server, double DurationSeconds, IReadOnlyList<string> Problems);

public sealed record BackupWorkflowResult(
    string InstanceId,
    BackupType Kind,
    string Trigger,
    WorkflowOutcome Outcome,
    BackupTaken? Backup,
    Verification.ChecksumCheck? Checksum,
    VerificationSummary? Verification,
    Storage.Secondary.CopyResult? Replication,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    double DurationSeconds,
    Wal.IncrementalBackupResult? Incremental = null)
{
    /// <summary>Every further copy made and proven (second, third); <see cref="Replication"/> is the second's.</summary>
    public IReadOnlyList<Storage.Secondary.CopyResult>? Copies { get; init; }

    /// <summary>Incremental backups: what each further copy got of the WAL archive (empty: none configured).</summary>
    public IReadOnlyList<Wal.WalCopyResult>? WalCopies { get; init; }
}

/// <summary>Input of the copy activity: which backup, to which further store.</summary>
public sealed record ReplicateInput(string Backup, Storage.BackupSource To);

/// <summary>What a scheduled workflow knows of its start: which trigger, and the schedule slot it serves.</summary>
public sealed record ScheduledWorkflowInput(string Trigger, DateTimeOffset Slot, RetrySettings? Retry = null);

public sealed record ChecksumSweepResult(string InstanceId, WorkflowOutcome Outcome, int Checked, IReadOnlyList<string> Mismatches, IReadOnlyList<string> Errors, DateTimeOffset FinishedAt);

public sealed record RetentionSummary(IReadOnlyList<string> Deleted, IReadOnlyList<string> DeletedOrphans, int Kept, IReadOnlyList<string> Failures)
{
    /// <summary>What limited retention (nothing verified) and records it ignored as damaged.</summary>
    public IReadOnlyList<string> Findings { get; init; } = [];
}

/// <summary>The result of a job whose engine may not be present in this build (files snapshot, config export, drills).</summary>
public sealed record ScheduledJobResult(string Job, WorkflowOutcome Outcome, string Detail, DateTimeOffset? FinishedAt = null);

/// <summary>A workflow's result on its way to the backup store (<c>runs/&lt;workflow&gt;/&lt;instance&gt;.json</c>), already serialized.</summary>
public sealed record RunRecordInput(string Workflow, string InstanceId, WorkflowOutcome Outcome, DateTimeOffset At, string ResultJson);

/// <summary>What starts a drill: the scenario, the declared incident time (default: the start), and who asked.</summary>
public sealed record DrillInput(string Scenario, DateTimeOffset? IncidentAt, string Trigger, RetrySettings? Retry = null);
