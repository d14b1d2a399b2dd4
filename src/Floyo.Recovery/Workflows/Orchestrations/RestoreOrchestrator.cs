using Floyo.Recovery.Restores;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// A restore an on-call engineer can trust: validate the request and plan it (a non-empty target is refused
/// unless replacing it was asked for); prove the backup's checksum; wait for approval from someone other
/// than the requester when required (a timeout touches nothing); stop the application's writes; restore
/// through a staging database; check integrity; give writes back; report with measured durations.
/// A failure after writes were stopped leaves them stopped and fails the orchestration loudly, with the
/// statement that reopens the database once someone has looked.
/// </summary>
public sealed class RestoreOrchestrator : TaskOrchestrator<RestoreWorkflowInput, RestoreReport>
{
    public const string ApprovalEvent = ApprovalGate.EventName;
    public const string RecordName = "restore";

    public override async Task<RestoreReport> RunAsync(TaskOrchestrationContext context, RestoreWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<RestoreOrchestrator>();
        var run = new Run(context, input, logger);
        logger.WorkflowStarted(nameof(RestoreOrchestrator), context.InstanceId, $"{input.Source} request by {input.RequestedBy}");

        // 1-2. Validate and plan, then prove the checksum: nothing is touched yet, so failures end here.
        RestorePlanned plan;
        try
        {
            run.Stage(RestoreStages.Validating);
            plan = await context.CallActivityAsync<RestorePlanned>(nameof(PlanRestoreActivity),
                new RestorePlanInput(input.Backup, input.TargetDatabase, input.DropExisting, input.From), run.Retry);
            run.Plan = plan;
            run.Stage(RestoreStages.CheckingBackup);
            var checksum = await context.CallActivityAsync<ChecksumCheck>(nameof(CheckBackupChecksumActivity), new ChecksumInput(plan.Backup, RecordMismatch: true, input.From), run.Retry);
            if (!checksum.Matched)
            {
                throw new IntegrityException($"{checksum.Problem ?? "checksum mismatch"}; nothing was restored");
            }
        }
        catch (Exception e) when (e is TaskFailedException or RecoveryException)
        {
            return await run.FailAsync(WorkflowTasks.Describe(e), e);
        }

        // 3. The approval gate.
        // Decided by the plan activity from this process's settings: no input can turn it off.
        if (plan.ApprovalRequired)
        {
            var approver = await WaitForApprovalAsync(context, input, plan, run, logger);
            if (approver is null)
            {
                return await run.TimedOutAsync();
            }
            run.ApprovedBy = approver;
            run.ApprovedAt = context.CurrentUtcDateTime;
        }
        else
        {
            // Not the production database and no approval asked for by settings: the requester's request is enough.
            run.ApprovedBy = input.RequestedBy;
        }

        // 4. Stop writes. It undoes its own partial work when it fails, so the target is still open.
        WriteFreeze freeze;
        try
        {
            run.Stage(RestoreStages.StoppingWrites);
            freeze = await context.CallActivityAsync<WriteFreeze>(nameof(StopWritesActivity), new StopWritesInput(context.InstanceId, plan.TargetDatabase), run.Retry);
        }
        catch (TaskFailedException e)
        {
            return await run.FailAsync($"writes to '{plan.TargetDatabase}' could not be stopped, nothing was restored: {WorkflowTasks.Describe(e)}", e);
        }
        run.Freeze = freeze;

        // 5-7. Restore, check, resume. From here a failure leaves writes stopped.
        try
        {
            run.Stage(RestoreStages.Restoring);
            var restored = await context.CallActivityAsync<RestoreResult>(nameof(RestoreBackupActivity),
                new RestoreStepInput(plan.Backup, plan.TargetDatabase, input.DropExisting, freeze, input.From), run.Retry);
            run.Restored = restored;

            run.Stage(RestoreStages.CheckingIntegrity);
            var integrity = await context.CallActivityAsync<IntegrityReport>(nameof(CheckIntegrityActivity), new IntegrityInput(plan.Backup, plan.TargetDatabase, input.From, restored.DatabaseOid), run.Retry);
            if (!integrity.Passed)
            {
                run.Problems.AddRange(integrity.Problems);
                throw new IntegrityException($"integrity check of '{plan.TargetDatabase}' found {integrity.Problems.Count} problems, first: {integrity.Problems[0]}");
            }

            run.Stage(RestoreStages.ResumingWrites);
            run.WritesResumed = await context.CallActivityAsync<bool>(nameof(ResumeWritesActivity), freeze, run.Retry);
        }
        catch (Exception e) when (e is TaskFailedException or RecoveryException)
        {
            return await run.FailAsync(WorkflowTasks.Describe(e), e);
        }

        return await run.SucceededAsync();
    }

    /// <summary>Waits at the approval gate for someone other than the requester; null when the time runs out first.</summary>
    private static Task<string?> WaitForApprovalAsync(TaskOrchestrationContext context, RestoreWorkflowInput input, RestorePlanned plan, Run run, ILogger logger) =>
        ApprovalGate.WaitAsync(context, new ApprovalRequest("restore", input.RequestedBy, plan.RequesterMayApprove, input.ApprovalTimeout), logger,
            deadline =>
            {
                run.Stage(RestoreStages.AwaitingApproval, deadline: deadline,
                    detail: $"restore {plan.Backup} into '{plan.TargetDatabase}' on {plan.Server}{(plan.ReplacesExisting ? ", replacing the existing database" : "")}: POST .../restores/{context.InstanceId}/approve as someone other than {input.RequestedBy}");
                logger.AwaitingApproval(context.InstanceId, plan.Backup, plan.TargetDatabase, input.RequestedBy, deadline);
                return Task.CompletedTask;
            },
            ignored => run.Problems.Add($"approval by {ignored.Approver} ignored: {ignored.Why}"));

    /// <summary>The state of one run, and the ways it ends (each one reported and recorded).</summary>
    private sealed class Run(TaskOrchestrationContext context, RestoreWorkflowInput input, ILogger logger)
    {
        private readonly DateTime _requestedAt = context.CurrentUtcDateTime;

        public TaskOptions? Retry { get; } = WorkflowTasks.Options(input.Retry);

        public RestorePlanned? Plan { get; set; }

        public string? ApprovedBy { get; set; }

        public DateTime? ApprovedAt { get; set; }

        public WriteFreeze? Freeze { get; set; }

        public RestoreResult? Restored { get; set; }

        public bool WritesResumed { get; set; }

        public List<string> Problems { get; } = [];

        private bool WritesStopped => Freeze is { Applied: true } && !WritesResumed;

        public void Stage(string stage, string? detail = null, DateTimeOffset? deadline = null) =>
            context.SetCustomStatus(new RestoreProgress(stage, detail, input.RequestedBy, deadline, Plan));

        public async Task<RestoreReport> SucceededAsync()
        {
            var report = Report(RestoreOutcome.Restored, null);
            Stage(RestoreStages.Done, $"restored in {report.RestoreSeconds:F1} s; {report.DurationSeconds:F1} s since requested");
            await WorkflowTasks.RecordAsync(context, RecordName, WorkflowOutcome.Succeeded, report, logger);
            logger.Restored(context.InstanceId, report.Backup, report.TargetDatabase!, report.RestoreSeconds ?? 0, report.DurationSeconds);
            return report;
        }

        public async Task<RestoreReport> TimedOutAsync()
        {
            var report = Report(RestoreOutcome.ApprovalTimedOut, $"no approval from anyone other than {input.RequestedBy} within {input.ApprovalTimeout}; nothing was touched");
            Stage(RestoreStages.ApprovalTimedOut, report.Error);
            await WorkflowTasks.RecordAsync(context, RecordName, WorkflowOutcome.Failed, report, logger);
            logger.ApprovalTimedOut(context.InstanceId, input.Backup, input.ApprovalTimeout);
            return report;
        }

        /// <summary>Records the failure and fails the orchestration; after writes were stopped it says so, loudly, and how to reopen.</summary>
        public async Task<RestoreReport> FailAsync(string error, Exception cause)
        {
            var writesStopped = WritesStopped;
            var target = Plan?.TargetDatabase ?? input.TargetDatabase ?? "(the database of DATABASE_URL)";
            var message = writesStopped
                ? $"RESTORE FAILED AFTER WRITES TO '{target}' WERE STOPPED: {error}. Writes stay stopped so nobody uses a half-restored database; after investigating, reopen with: {Freeze!.ResumeSql}"
                : error;
            var report = Report(writesStopped ? RestoreOutcome.FailedWritesStopped : RestoreOutcome.Failed, message);
            Stage(writesStopped ? RestoreStages.FailedWritesStopped : RestoreStages.Failed, message);
            var recordError = await WorkflowTasks.RecordAsync(context, RecordName, WorkflowOutcome.Failed, report, logger);
            if (writesStopped)
            {
                logger.RestoreFailedWritesStopped(context.InstanceId, input.Backup, target, error, Freeze!.ResumeSql, cause);
            }
            else
            {
                logger.WorkflowFailed(nameof(RestoreOrchestrator), context.InstanceId, error, cause);
            }
            var kind = ErrorKinds.Of(cause);
            // A request refused before anything was touched (bad input, no such backup, a target not named for
            // replacement) is an answer the requester reads at once; every other failed restore is an incident.
            var answered = !writesStopped && kind is ErrorKind.Usage or ErrorKind.NotFound or ErrorKind.RefusedForSafety;
            var incident = answered ? null : await WorkflowTasks.RaiseIncidentAsync(context, Incident(target, message, writesStopped));
            if (writesStopped)
            {
                // The application is down until someone looks: page now, under the incident's key (one page), and
                // even if the incident could not be opened.
                await WorkflowTasks.NotifyAsync(context, "failed-writes-stopped", Notifications.NotificationSeverity.Critical,
                    $"Restore {context.InstanceId} failed with writes to '{target}' stopped", message, incident?.IncidentId);
            }
            throw RecoveryException.Of(kind, recordError is null ? message : $"{message} (the report could not be stored: {recordError})");
        }

        /// <summary>The incident of this failure: one per restore target while it stays open (a retry of the restore lands on it).</summary>
        private Incidents.IncidentTrigger Incident(string target, string message, bool writesStopped)
        {
            // The production database (DATABASE_URL's, which an unplanned restore targets by default) or a database left closed: page.
            var critical = writesStopped || Plan?.IsProductionDatabase == true || (Plan is null && input.TargetDatabase is null);
            return new Incidents.IncidentTrigger(
                Incidents.IncidentCause.RestoreFailed,
                // The target as asked for, not as planned: a repeat that fails earlier (the backup now known bad) is the same cause.
                input.TargetDatabase ?? "DATABASE_URL",
                context.InstanceId,
                writesStopped ? $"Restore into '{target}' failed with writes stopped" : $"Restore into '{target}' failed",
                critical ? Notifications.NotificationSeverity.Critical : Notifications.NotificationSeverity.Warning,
                $"restore workflow ({(input.Source == RestoreSource.Http ? "HTTP" : "floyo-dr")})",
                writesStopped ? RestoreStages.FailedWritesStopped : RestoreStages.Failed,
                $"{message} Backup {Plan?.Backup ?? input.Backup}, requested by {input.RequestedBy} ({input.Reason}); workflow {context.InstanceId}.");
        }

        private RestoreReport Report(RestoreOutcome outcome, string? error)
        {
            var now = context.CurrentUtcDateTime;
            return new RestoreReport(
                context.InstanceId, outcome, Plan?.Backup ?? input.Backup, Plan?.TargetDatabase ?? input.TargetDatabase, Plan?.Server,
                Restored?.ReplacedExisting ?? false, input.RequestedBy, ApprovedBy, input.Reason, input.Source,
                WritesStopped, WritesResumed, _requestedAt, now, Math.Round((now - _requestedAt).TotalSeconds, 3),
                ApprovedAt is { } at ? Math.Round((at - _requestedAt).TotalSeconds, 3) : null, // only when someone had to approve
                Restored?.DurationSeconds, Restored?.CreatedRoles ?? [], [.. Problems], error,
                Freeze is { Applied: true } ? Freeze.ResumeSql : null);
        }
    }
}
