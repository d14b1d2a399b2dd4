using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows;

/// <summary>Workflow log events, EventIds 5000-5999 (functions and workflows block).</summary>
internal static partial class WorkflowLogs
{
    /// <summary>A workflow that failed: the dashboard's failures view counts failed run records as these.</summary>
    public const int WorkflowFailedId = 5002;

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "{Workflow} {InstanceId} started by {Trigger}")]
    public static partial void WorkflowStarted(this ILogger logger, string workflow, string instanceId, string trigger);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "{Workflow} {InstanceId} finished: {Outcome}")]
    public static partial void WorkflowFinished(this ILogger logger, string workflow, string instanceId, string outcome);

    [LoggerMessage(EventId = WorkflowFailedId, Level = LogLevel.Error, Message = "{Workflow} {InstanceId} failed: {Error}")]
    public static partial void WorkflowFailed(this ILogger logger, string workflow, string instanceId, string error, Exception? exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Activity {Activity} of {InstanceId} failed transiently and will be retried: {Error}")]
    public static partial void TransientActivityFailure(this ILogger logger, string activity, string instanceId, string error, Exception exception);

    // Information, not Error: the orchestration decides whether the failure is final and logs that at Error; this
    // line carries the step's stack trace to Application Insights without adding a line to the CLI's one-line errors.
    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Activity {Activity} of {InstanceId} failed: {Error}")]
    public static partial void ActivityFailed(this ILogger logger, string activity, string instanceId, string error, Exception exception);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Restore {InstanceId} of {Backup} into {Target} waits for approval by someone other than {RequestedBy} until {Deadline:O}")]
    public static partial void AwaitingApproval(this ILogger logger, string instanceId, string backup, string target, string requestedBy, DateTimeOffset deadline);

    // The approval gate's, for restores and breach recoveries alike (ApprovalGate).
    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "{Workflow} {InstanceId}: approval by {Approver} ignored: {Why}")]
    public static partial void ApprovalIgnored(this ILogger logger, string workflow, string instanceId, string approver, string why);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Information, Message = "{Workflow} {InstanceId} approved by {Approver}")]
    public static partial void Approved(this ILogger logger, string workflow, string instanceId, string approver);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "Restore {InstanceId} of {Backup}: no approval within {Timeout}; nothing was touched")]
    public static partial void ApprovalTimedOut(this ILogger logger, string instanceId, string backup, TimeSpan timeout);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Warning, Message = "Writes to {Database} stopped: CONNECT revoked from {Grantees}; {Sessions} sessions ended")]
    public static partial void WritesStopped(this ILogger logger, string database, string grantees, int sessions);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Information, Message = "Writes to {Database} resumed: CONNECT granted to {Grantees}")]
    public static partial void WritesResumed(this ILogger logger, string database, string grantees);

    [LoggerMessage(EventId = 5016, Level = LogLevel.Critical, Message = "RESTORE FAILED AFTER WRITES WERE STOPPED: {InstanceId} of {Backup} into {Target}: {Error}. Writes stay stopped; after investigating, reopen with: {ResumeSql}")]
    public static partial void RestoreFailedWritesStopped(this ILogger logger, string instanceId, string backup, string target, string error, string resumeSql, Exception exception);

    [LoggerMessage(EventId = 5017, Level = LogLevel.Information, Message = "Restore {InstanceId}: {Backup} restored into {Target} in {Seconds:F1} s ({TotalSeconds:F1} s since requested)")]
    public static partial void Restored(this ILogger logger, string instanceId, string backup, string target, double seconds, double totalSeconds);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Error, Message = "Backup {Backup} failed its checksum check: {Problem}")]
    public static partial void ChecksumMismatch(this ILogger logger, string backup, string problem);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "Could not record the result of {Workflow} {InstanceId}: {Error}")]
    public static partial void RecordFailed(this ILogger logger, string workflow, string instanceId, string error, Exception exception);

    [LoggerMessage(EventId = 5022, Level = LogLevel.Warning, Message = "{Job}: {Detail}")]
    public static partial void JobNotAvailable(this ILogger logger, string job, string detail);

    [LoggerMessage(EventId = 5023, Level = LogLevel.Error, Message = "Notification {NotificationId} could not be sent: {Error}")]
    public static partial void NotificationFailed(this ILogger logger, string notificationId, string error, Exception exception);
}
