using Floyo.Recovery.Storage.Secondary;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// A backup, end to end: dump and upload, read it back and check the checksum, restore it into a scratch
/// database and compare (when asked), make the second copy, record the result. When no backup could be
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
            if (input.Kind == BackupKind.Incremental)
            {
                // The increment is the archived WAL, proven continuous: nothing to dump, check or copy here.
                context.SetCustomStatus("archiving");
                var incremental = await context.CallActivityAsync<IncrementalBackupResult>(nameof(TakeIncrementalBackupActivity), input.Trigger, retry);
                var recorded = incremental.Outcome == IncrementalOutcome.Taken ? WorkflowOutcome.Succeeded : WorkflowOutcome.NotAvailable;
                context.SetCustomStatus(incremental.Detail);
                await WorkflowTasks.RecordAsync(context, RecordName, recorded, Result(recorded, null, null, null, null, null) with { Incremental = incremental }, logger);
                if (recorded == WorkflowOutcome.NotAvailable)
                {
                    logger.JobNotAvailable(nameof(BackupOrchestrator), incremental.Detail);
                }
                logger.WorkflowFinished(nameof(BackupOrchestrator), context.InstanceId, recorded.ToString());
                return Result(recorded, null, null, null, null, null) with { Incremental = incremental };
            }
            context.SetCustomStatus("dumping");
            taken = await context.CallActivityAsync<BackupTaken>(nameof(TakeFullBackupActivity), input.Trigger, retry);
        }
        catch (TaskFailedException e)
        {
            var error = WorkflowTasks.Describe(e);
            context.SetCustomStatus("failed");
            await WorkflowTasks.RecordAsync(context, RecordName, WorkflowOutcome.Failed, Result(WorkflowOutcome.Failed, null, null, null, null, error), logger);
            logger.WorkflowFailed(nameof(BackupOrchestrator), context.InstanceId, error);
            throw new RecoveryException(error);
        }

        var errors = new List<string>();
        ChecksumCheck? checksum = null;
        VerificationSummary? verification = null;
        CopyResult? replication = null;
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
                // Only a proven backup is worth a second copy.
                context.SetCustomStatus("copying");
                replication = await context.CallActivityAsync<CopyResult?>(nameof(ReplicateBackupActivity), taken.Name, retry);
            }
        }
        catch (TaskFailedException e)
        {
            errors.Add(WorkflowTasks.Describe(e));
        }

        var outcome = errors.Count == 0 ? WorkflowOutcome.Succeeded : WorkflowOutcome.Failed;
        var result = Result(outcome, taken, checksum, verification, replication, errors.Count == 0 ? null : string.Join("; ", errors));
        context.SetCustomStatus(outcome == WorkflowOutcome.Succeeded ? "done" : "failed");
        await WorkflowTasks.RecordAsync(context, RecordName, outcome, result, logger);
        if (outcome == WorkflowOutcome.Failed)
        {
            logger.WorkflowFailed(nameof(BackupOrchestrator), context.InstanceId, result.Error!);
        }
        logger.WorkflowFinished(nameof(BackupOrchestrator), context.InstanceId, outcome.ToString());
        return result;
    }
}
