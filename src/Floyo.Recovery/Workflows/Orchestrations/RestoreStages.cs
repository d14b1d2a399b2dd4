namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>The stages a restore shows in its custom status, in order.</summary>
public static class RestoreStages
{
    public const string Validating = "validating";
    public const string CheckingBackup = "checking-backup";
    public const string AwaitingApproval = "awaiting-approval";
    public const string StoppingWrites = "stopping-writes";
    public const string Restoring = "restoring";
    public const string CheckingIntegrity = "checking-integrity";
    public const string ResumingWrites = "resuming-writes";
    public const string Done = "done";
    public const string ApprovalTimedOut = "approval-timed-out";
    public const string Failed = "failed";
    public const string FailedWritesStopped = "FAILED-WRITES-STOPPED";
}
