using Floyo.Recovery.Backups;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>Weekly: reads every stored backup and checks its SHA-256; a mismatch is recorded beside the backup, which the catalog then shows as invalid.</summary>
public sealed class ChecksumSweepOrchestrator : TaskOrchestrator<ScheduledWorkflowInput, ChecksumSweepResult>
{
    public const string RecordName = "checksum-sweep";

    public const string MismatchKeyPrefix = "checksum:";

    public const string SweepKey = "checksum-sweep";

    public override async Task<ChecksumSweepResult> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<ChecksumSweepOrchestrator>();
        var retry = WorkflowTasks.Options(input.Retry);
        logger.WorkflowStarted(nameof(ChecksumSweepOrchestrator), context.InstanceId, input.Trigger);
        var mismatches = new List<string>();
        var mismatchedBackups = new List<(string Backup, string Problem)>();
        var errors = new List<string>();
        var checkedCount = 0;
        try
        {
            var backups = await context.CallActivityAsync<IReadOnlyList<BackupSummary>>(nameof(ListBackupsActivity), (string?)null, retry);
            foreach (var backup in backups)
            {
                context.SetCustomStatus($"checking {checkedCount + 1} of {backups.Count}: {backup.Name}");
                try
                {
                    var check = await context.CallActivityAsync<ChecksumCheck>(nameof(CheckBackupChecksumActivity), new ChecksumInput(backup.Name, RecordMismatch: true), retry);
                    checkedCount++;
                    if (!check.Matched)
                    {
                        mismatches.Add(check.Problem ?? backup.Name);
                        mismatchedBackups.Add((backup.Name, check.Problem ?? "checksum mismatch"));
                    }
                }
                catch (TaskFailedException e)
                {
                    errors.Add($"{backup.Name}: {WorkflowTasks.Describe(e)}");
                }
            }
        }
        catch (TaskFailedException e)
        {
            errors.Add(WorkflowTasks.Describe(e));
        }
        var outcome = mismatches.Count == 0 && errors.Count == 0 ? WorkflowOutcome.Succeeded : WorkflowOutcome.Failed;
        var result = new ChecksumSweepResult(context.InstanceId, outcome, checkedCount, mismatches, errors, context.CurrentUtcDateTime);
        context.SetCustomStatus(outcome == WorkflowOutcome.Succeeded ? $"{checkedCount} backups match their checksums" : $"{mismatches.Count} mismatches, {errors.Count} errors");
        await WorkflowTasks.RecordAsync(context, RecordName, outcome, result, logger);
        if (outcome == WorkflowOutcome.Failed)
        {
            logger.WorkflowFailed(nameof(ChecksumSweepOrchestrator), context.InstanceId, string.Join("; ", mismatches.Concat(errors).Take(5)), null);
        }
        // A damaged backup is critical, one incident per backup; the sweep not finishing is its own (warning).
        foreach (var (backup, problem) in mismatchedBackups)
        {
            await WorkflowTasks.AlertAsync(context, new AlertInput(MismatchKeyPrefix + backup, true, NotificationSeverity.Critical, $"Backup {backup} does not match its checksum", problem));
        }
        if (mismatches.Count == 0)
        {
            await WorkflowTasks.AlertAsync(context, new AlertInput(MismatchKeyPrefix, false, NotificationSeverity.Critical, "", $"The checksum sweep found every stored backup intact ({checkedCount} checked).", WholePrefix: true));
        }
        await WorkflowTasks.AlertAsync(context, errors.Count > 0
            ? new AlertInput(SweepKey, true, NotificationSeverity.Warning, "Checksum sweep could not check every backup", string.Join("; ", errors.Take(5)))
            : new AlertInput(SweepKey, false, NotificationSeverity.Warning, "", $"The checksum sweep checked {checkedCount} backups."));
        logger.WorkflowFinished(nameof(ChecksumSweepOrchestrator), context.InstanceId, outcome.ToString());
        return result;
    }
}

/// <summary>Monthly: the restore-test drill (the latest good backup onto staging, verified, the application's login proven).</summary>
public sealed class RestoreTestOrchestrator : TaskOrchestrator<ScheduledWorkflowInput, DrillReport>
{
    public override Task<DrillReport> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input) =>
        ScheduledDrill.RunAsync(context, input, DrillScenario.RestoreTest);
}

/// <summary>Daily: applies retention (expired backups and orphaned data objects go; held and retained ones stay).</summary>
public sealed class RetentionCleanupOrchestrator : TaskOrchestrator<ScheduledWorkflowInput, RetentionSummary>
{
    public const string RecordName = "retention-cleanup";

    public override async Task<RetentionSummary> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<RetentionCleanupOrchestrator>();
        logger.WorkflowStarted(nameof(RetentionCleanupOrchestrator), context.InstanceId, input.Trigger);
        RetentionSummary summary;
        try
        {
            summary = await context.CallActivityAsync<RetentionSummary>(nameof(ApplyRetentionActivity), input.Trigger, WorkflowTasks.Options(input.Retry));
        }
        catch (TaskFailedException e)
        {
            var error = WorkflowTasks.Describe(e);
            await WorkflowTasks.RecordAsync(context, RecordName, WorkflowOutcome.Failed, new { error }, logger);
            logger.WorkflowFailed(nameof(RetentionCleanupOrchestrator), context.InstanceId, error, e);
            await WorkflowTasks.AlertAsync(context, new AlertInput(RecordName, true, NotificationSeverity.Warning, "Retention cleanup failed", error));
            throw RecoveryException.Of(ErrorKinds.Of(e), error);
        }
        var outcome = summary.Failures.Count == 0 ? WorkflowOutcome.Succeeded : WorkflowOutcome.Failed;
        context.SetCustomStatus($"{summary.Deleted.Count + summary.DeletedOrphans.Count} deleted, {summary.Kept} kept, {summary.Failures.Count} failures");
        await WorkflowTasks.RecordAsync(context, RecordName, outcome, summary, logger);
        await WorkflowTasks.AlertAsync(context, outcome == WorkflowOutcome.Failed
            ? new AlertInput(RecordName, true, NotificationSeverity.Warning, "Retention cleanup failed", $"{summary.Failures.Count} failures: {string.Join("; ", summary.Failures.Take(5))}")
            : new AlertInput(RecordName, false, NotificationSeverity.Warning, "", $"Retention cleanup ran: {summary.Deleted.Count + summary.DeletedOrphans.Count} deleted, {summary.Kept} kept."));
        logger.WorkflowFinished(nameof(RetentionCleanupOrchestrator), context.InstanceId, outcome.ToString());
        return summary;
    }
}

/// <summary>Quarterly: the plan's drill for the slot's quarter (Q1 corruption, Q2 server failure, Q3 data-centre outage, Q4 breach).</summary>
public sealed class DrDrillOrchestrator : TaskOrchestrator<ScheduledWorkflowInput, DrillReport>
{
    public override Task<DrillReport> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input) =>
        ScheduledDrill.RunAsync(context, input, DrillScenario.ForQuarter(input.Slot));
}

/// <summary>A timer's drill runs as a sub-orchestration whose instance id follows the timer's slot.</summary>
internal static class ScheduledDrill
{
    public static Task<DrillReport> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input, string scenario)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return context.CallSubOrchestratorAsync<DrillReport>(nameof(DrillOrchestrator), new DrillInput(scenario, null, input.Trigger, input.Retry),
            new SubOrchestrationOptions { InstanceId = $"{context.InstanceId}-drill" });
    }
}

/// <summary>Daily snapshot of the application's uploaded files, (<see cref="AppData.FilesSnapshotter"/>).</summary>
public sealed class FilesSnapshotOrchestrator : TaskOrchestrator<ScheduledWorkflowInput, ScheduledJobResult>
{
    public const string RecordName = "files-snapshot";

    public override Task<ScheduledJobResult> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input) =>
        ScheduledJob.RunAsync(context, input, nameof(FilesSnapshotOrchestrator), RecordName, nameof(SnapshotUploadedFilesActivity));
}

/// <summary>Daily export of the application's configuration, (<see cref="AppData.ConfigExporter"/>).</summary>
public sealed class ConfigExportOrchestrator : TaskOrchestrator<ScheduledWorkflowInput, ScheduledJobResult>
{
    public const string RecordName = "config-export";

    public override Task<ScheduledJobResult> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input) =>
        ScheduledJob.RunAsync(context, input, nameof(ConfigExportOrchestrator), RecordName, nameof(ExportConfigurationActivity));
}

/// <summary>One activity, its result recorded; a failure fails the orchestration with the activity's message.</summary>
internal static class ScheduledJob
{
    public static async Task<ScheduledJobResult> RunAsync(TaskOrchestrationContext context, ScheduledWorkflowInput input, string workflow, string recordName, string activity)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger($"{typeof(ScheduledJob).Namespace}.{workflow}");
        logger.WorkflowStarted(workflow, context.InstanceId, input.Trigger);
        ScheduledJobResult result;
        try
        {
            result = await context.CallActivityAsync<ScheduledJobResult>(activity, input.Slot, WorkflowTasks.Options(input.Retry));
        }
        catch (TaskFailedException e)
        {
            var error = WorkflowTasks.Describe(e);
            await WorkflowTasks.RecordAsync(context, recordName, WorkflowOutcome.Failed, new ScheduledJobResult(recordName, WorkflowOutcome.Failed, error, context.CurrentUtcDateTime), logger);
            logger.WorkflowFailed(workflow, context.InstanceId, error, e);
            await WorkflowTasks.AlertAsync(context, new AlertInput(recordName, true, NotificationSeverity.Warning, $"{recordName} failed", error));
            throw RecoveryException.Of(ErrorKinds.Of(e), error);
        }
        result = result with { FinishedAt = context.CurrentUtcDateTime };
        context.SetCustomStatus(result.Detail);
        await WorkflowTasks.RecordAsync(context, recordName, result.Outcome, result, logger);
        if (result.Outcome == WorkflowOutcome.NotAvailable)
        {
            // Not configured: recorded as such, never an alert.
            logger.JobNotAvailable(workflow, result.Detail);
        }
        else
        {
            await WorkflowTasks.AlertAsync(context, new AlertInput(recordName, result.Outcome == WorkflowOutcome.Failed, NotificationSeverity.Warning, $"{recordName} failed", result.Detail));
        }
        logger.WorkflowFinished(workflow, context.InstanceId, result.Outcome.ToString());
        return result;
    }
}
