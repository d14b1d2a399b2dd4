using Floyo.Recovery.Backups;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Secondary;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// A backup, end to end: dump and upload, read it back and check the checksum, restore it into a scratch
/// database and compare (when asked), make the further copies (second, third), record the result. When no backup could be
/// taken the orchestration fails with the reason; when one was taken but is not proven or not copied it
/// completes with <see cref="WorkflowOutcome.Failed"/> and every finding, so nothing unproven looks good.
/// Two runs of one database never overlap: the store lock in FullBackupRunner, and instance ids per schedule slot.
/// </summary>
public sealed class BackupOrchestrator : TaskOrchestrator<BackupWorkflowInput, BackupWorkflowResult>
{
    public const string RecordName = "backup";

    public override async Task<BackupWorkflowResult> RunAsync(TaskOrchestrationContext context, BackupWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<BackupOrchestrator>();
        var started = context.CurrentUtcDateTime;
        var retry = WorkflowTasks.Options(input.Retry);
        logger.WorkflowStarted(nameof(BackupOrchestrator), context.InstanceId, input.Trigger);

        BackupWorkflowResult Result(WorkflowOutcome outcome, BackupTaken? taken, ChecksumCheck? checksum, VerificationSummary? verification, CopyResult? replication, string? error) =>
            new(context.InstanceId, input.Kind, input.Trigger, outcome, taken, checksum, verification, replication, error,
                started, context.CurrentUtcDateTime, Math.Round((context.CurrentUtcDateTime - started).TotalSeconds, 3));

        BackupTaken taken;
        try
        {
            if (input.Kind == BackupType.Incremental)
            {
                // The increment is the archived WAL, proven continuous: nothing to dump or check here. The further copies
                // get what they lack of it (and of the base backups) every 6 hours, which bounds their lag.
                context.SetCustomStatus("archiving");
                var incremental = await context.CallActivityAsync<IncrementalBackupResult>(nameof(TakeIncrementalBackupActivity), input.Trigger, retry);
                IReadOnlyList<WalCopyResult> walCopies = [];
                if (incremental.Outcome == IncrementalOutcome.Taken)
                {
                    context.SetCustomStatus("copying the WAL archive");
                    walCopies = await context.CallActivityAsync<IReadOnlyList<WalCopyResult>>(nameof(CopyWalArchiveActivity), false, retry);
                }
                var incomplete = walCopies.Where(c => !c.Complete).Select(c => c.Describe()).ToList();
                var recorded = incremental.Outcome != IncrementalOutcome.Taken ? WorkflowOutcome.NotAvailable
                    : incomplete.Count > 0 ? WorkflowOutcome.Failed : WorkflowOutcome.Succeeded;
                var copyError = incomplete.Count == 0 ? null : $"the incremental backup is proven in the primary store, but the WAL archive's copy is not: {string.Join("; ", incomplete)}";
                var done = Result(recorded, null, null, null, null, copyError) with { Incremental = incremental, WalCopies = walCopies };
                context.SetCustomStatus(copyError ?? incremental.Detail);
                await WorkflowTasks.RecordAsync(context, RecordName, recorded, done, logger);
                if (recorded == WorkflowOutcome.NotAvailable)
                {
                    logger.JobNotAvailable(nameof(BackupOrchestrator), incremental.Detail);
                }
                else if (copyError is not null)
                {
                    logger.WorkflowFailed(nameof(BackupOrchestrator), context.InstanceId, copyError, null);
                }
                // Each copy that ran raises or resolves its own incident (wal-copy:<copy>): a failed copy pages now, not as lag 7 hours later.
                foreach (var copy in walCopies.Select(c => WalCopyAlerter.IncidentOf(c, "the incremental backup")))
                {
                    await WorkflowTasks.AlertAsync(context, new AlertInput(copy.Key, copy.Failed, copy.Severity, copy.Title, copy.Text));
                }
                logger.WorkflowFinished(nameof(BackupOrchestrator), context.InstanceId, recorded.ToString());
                return done;
            }
            context.SetCustomStatus("dumping");
            taken = await context.CallActivityAsync<BackupTaken>(nameof(TakeFullBackupActivity), input.Trigger, retry);
        }
        catch (TaskFailedException e)
        {
            var error = WorkflowTasks.Describe(e);
            context.SetCustomStatus("failed");
            await WorkflowTasks.RecordAsync(context, RecordName, WorkflowOutcome.Failed, Result(WorkflowOutcome.Failed, null, null, null, null, error), logger);
            logger.WorkflowFailed(nameof(BackupOrchestrator), context.InstanceId, error, e);
            await AlertAsync(context, input, BackupKey, true, NotificationSeverity.Critical, $"Backup of {AlertInput.DatabaseToken} failed", error);
            throw RecoveryException.Of(ErrorKinds.Of(e), error);
        }

        var errors = new List<string>();
        ChecksumCheck? checksum = null;
        VerificationSummary? verification = null;
        var copies = new List<CopyResult>();
        var copyErrors = new Dictionary<BackupSource, string>();
        try
        {
            context.SetCustomStatus("checking checksum");
            checksum = await context.CallActivityAsync<ChecksumCheck>(nameof(CheckBackupChecksumActivity), new ChecksumInput(taken.Name, RecordMismatch: true), retry);
            if (!checksum.Matched)
            {
                errors.Add(checksum.Problem ?? $"{taken.Name} does not match its checksum");
            }
            if (checksum.Matched && input.Verify)
            {
                context.SetCustomStatus("verifying");
                verification = await context.CallActivityAsync<VerificationSummary>(nameof(VerifyBackupActivity), taken.Name, retry);
                if (!verification.Passed)
                {
                    errors.Add($"verification failed: {string.Join("; ", verification.Problems.Take(5))}");
                }
            }
            if (errors.Count == 0)
            {
                // Only a proven backup is worth copying. Each copy is its own step: one place down does not stop the other.
                context.SetCustomStatus("copying");
                foreach (var to in BackupStores.Copies)
                {
                    try
                    {
                        if (await context.CallActivityAsync<CopyResult?>(nameof(ReplicateBackupActivity), new ReplicateInput(taken.Name, to), retry) is { } copy)
                        {
                            copies.Add(copy);
                        }
                    }
                    catch (TaskFailedException e)
                    {
                        // Its own incident: the backup itself is proven.
                        copyErrors[to] = WorkflowTasks.Describe(e);
                        errors.Add(copyErrors[to]);
                    }
                }
            }
        }
        catch (TaskFailedException e)
        {
            errors.Add(WorkflowTasks.Describe(e));
        }

        var outcome = errors.Count == 0 ? WorkflowOutcome.Succeeded : WorkflowOutcome.Failed;
        var replication = copies.FirstOrDefault(c => c.Copy == BackupSource.Secondary);
        var result = Result(outcome, taken, checksum, verification, replication, errors.Count == 0 ? null : string.Join("; ", errors)) with { Copies = copies };
        context.SetCustomStatus(outcome == WorkflowOutcome.Succeeded ? "done" : "failed");
        await WorkflowTasks.RecordAsync(context, RecordName, outcome, result, logger);
        if (outcome == WorkflowOutcome.Failed)
        {
            logger.WorkflowFailed(nameof(BackupOrchestrator), context.InstanceId, result.Error!, null);
        }
        await AlertOnResultAsync(context, input, taken, errors, copyErrors, copies, logger);
        logger.WorkflowFinished(nameof(BackupOrchestrator), context.InstanceId, outcome.ToString());
        return result;
    }

    /// <summary>The incident key of a database's full backups: failed, unproven or unchecked backups.</summary>
    public const string BackupKey = $"backup:{AlertInput.DatabaseToken}";

    /// <summary>The second copy could not be made or proven.</summary>
    public const string CopyKey = $"copy:{AlertInput.DatabaseToken}";

    /// <summary>The third copy could not be made or proven.</summary>
    public const string TertiaryCopyKey = $"copy-tertiary:{AlertInput.DatabaseToken}";

    /// <summary>Each copy has its own incident, so the third failing never hides the second recovering.</summary>
    public static string CopyKeyOf(BackupSource copy) => copy == BackupSource.Tertiary ? TertiaryCopyKey : CopyKey;

    /// <summary>The backup was taken but is SUSPECT (anomalous) and does not count as good until accepted.</summary>
    public const string SuspectKey = $"suspect:{AlertInput.DatabaseToken}";

    /// <summary>One incident per cause; the next good run of the same cause resolves it. A copy that is not configured is neither.</summary>
    private static async Task AlertOnResultAsync(TaskOrchestrationContext context, BackupWorkflowInput input, BackupTaken taken, List<string> errors, Dictionary<BackupSource, string> copyErrors, List<CopyResult> copies, Microsoft.Extensions.Logging.ILogger logger)
    {
        var backupErrors = errors.Where(e => !copyErrors.Values.Any(c => ReferenceEquals(e, c))).ToList();
        if (backupErrors.Count > 0)
        {
            await AlertAsync(context, input, BackupKey, true, NotificationSeverity.Critical, $"Backup {taken.Name} of {taken.Database} is not proven good", string.Join("; ", backupErrors));
            return;
        }
        await AlertAsync(context, input, BackupKey, false, NotificationSeverity.Critical, "", $"Backup {taken.Name} of {taken.Database} taken and checked at {taken.Timestamp:u}.");
        if (input.Kind == BackupType.Full && taken.Anomalies is not { Count: > 0 })
        {
            // The event the dead-man's switch in Azure Monitor looks for (infra/bicep/modules/monitoring.bicep).
            logger.FullBackupSucceeded(taken.Name, taken.Database);
        }
        foreach (var copy in BackupStores.Copies)
        {
            var which = BackupStores.Ordinal(copy);
            if (copyErrors.TryGetValue(copy, out var copyError))
            {
                await AlertAsync(context, input, CopyKeyOf(copy), true, NotificationSeverity.Warning, $"{Capitalised(which)} copy of {taken.Name} failed", copyError);
            }
            else if (copies.FirstOrDefault(c => c.Copy == copy) is { } made)
            {
                await AlertAsync(context, input, CopyKeyOf(copy), false, NotificationSeverity.Warning, "", $"{Capitalised(which)} copy of {taken.Name} made and verified in {made.Target}.");
            }
        }
        if (taken.Anomalies is { Count: > 0 } anomalies)
        {
            await AlertAsync(context, input, SuspectKey, true, NotificationSeverity.Warning, $"Backup {taken.Name} of {taken.Database} is SUSPECT",
                $"{string.Join("; ", anomalies)}. It does not count as good until accepted (floyo-dr accept {taken.Name}).");
        }
        else
        {
            await AlertAsync(context, input, SuspectKey, false, NotificationSeverity.Warning, "", $"Backup {taken.Name} of {taken.Database} shows no anomaly.");
        }
    }

    private static string Capitalised(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    /// <summary>Full backups only: incremental ones are WAL's (and not configured by default), alerting on them comes with it.</summary>
    private static Task AlertAsync(TaskOrchestrationContext context, BackupWorkflowInput input, string key, bool failed, NotificationSeverity severity, string title, string text) =>
        input.Kind == BackupType.Full
            ? WorkflowTasks.AlertAsync(context, new AlertInput(key, failed, severity, title, text))
            : Task.CompletedTask;
}
