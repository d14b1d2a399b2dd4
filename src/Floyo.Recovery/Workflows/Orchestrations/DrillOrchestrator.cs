using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using System.Globalization;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// One DR drill against staging. Every step is an activity timed on the orchestration's clock, so the
/// timeline, the achieved RTO (declared incident to verified service) and RPO (restore point to incident)
/// survive restarts. A drill passes only when every check held and both targets were met; its report is
/// stored write-once.
/// </summary>
public sealed class DrillOrchestrator : TaskOrchestrator<DrillInput, DrillReport>
{
    public override async Task<DrillReport> RunAsync(TaskOrchestrationContext context, DrillInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<DrillOrchestrator>();
        var scenario = DrillScenario.Parse(input.Scenario);
        var started = Now(context);
        var incident = input.IncidentAt ?? started;
        var id = $"{scenario}-{started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{context.NewGuid().ToString("N")[..4]}";
        logger.WorkflowStarted(nameof(DrillOrchestrator), context.InstanceId, input.Trigger);
        var timeline = new Timeline(context, WorkflowTasks.Options(input.Retry));
        var targets = await context.CallActivityAsync<RecoveryTargets>(nameof(ReadRecoveryTargetsActivity), true, WorkflowTasks.Options(input.Retry));

        DrillBackup? backup = null;
        DateTimeOffset? serviceVerifiedAt = null;
        var status = DrillStatus.Passed;
        var failures = new List<string>();
        try
        {
            if (incident > started.AddMinutes(1))
            {
                throw timeline.Fail("declare incident", "the declared incident time is in the future");
            }
            context.SetCustomStatus($"drill {scenario} running");
            switch (scenario)
            {
                case DrillScenario.RestoreTest:
                    (backup, serviceVerifiedAt) = await RestoreAndProveAsync(timeline, BackupSource.Primary, requireVerified: false);
                    break;
                case DrillScenario.ServerFailure:
                    (backup, serviceVerifiedAt) = await RestoreAndProveAsync(timeline, BackupSource.Primary, requireVerified: true);
                    break;
                case DrillScenario.DatacenterOutage:
                    (backup, serviceVerifiedAt) = await RestoreAndProveAsync(timeline, BackupSource.Secondary, requireVerified: true);
                    break;
                case DrillScenario.DatabaseCorruption:
                    (backup, serviceVerifiedAt) = await CorruptionAsync(timeline);
                    break;
                default:
                    status = DrillStatus.NotAvailable;
                    failures.Add("the security-breach recovery workflow is not available in this version, so this drill cannot pass");
                    break;
            }
        }
        catch (DrillStepFailedException e)
        {
            status = DrillStatus.Failed;
            failures.Add(e.Message);
        }

        TimeSpan? rto = null, rpo = null;
        if (status == DrillStatus.Passed && backup is not null && serviceVerifiedAt is { } verified)
        {
            var (achievedRto, achievedRpo, missed) = RecoveryMeasurement.Evaluate(incident, backup.Timestamp, verified, targets);
            (rto, rpo) = (achievedRto, achievedRpo);
            if (missed.Count > 0)
            {
                status = DrillStatus.Failed;
                failures.AddRange(missed);
            }
        }
        var report = new DrillReport(id, scenario, status, incident, Now(context), backup?.Name, backup?.Timestamp, rto, rpo, targets, timeline.Steps, failures);
        await context.CallActivityAsync<string>(nameof(SaveDrillReportActivity), report, WorkflowTasks.Options(input.Retry));
        context.SetCustomStatus($"drill {id}: {status}");
        if (status != DrillStatus.Passed)
        {
            logger.WorkflowFailed(nameof(DrillOrchestrator), context.InstanceId, string.Join("; ", failures));
        }
        logger.WorkflowFinished(nameof(DrillOrchestrator), context.InstanceId, status);
        return report;
    }

    /// <summary>restore-test, server-failure, datacenter-outage: the backup onto staging, verified, and the application's login proven.</summary>
    private static async Task<(DrillBackup, DateTimeOffset)> RestoreAndProveAsync(Timeline timeline, BackupSource source, bool requireVerified)
    {
        var backup = await timeline.StepAsync<DrillBackup>("choose backup", nameof(ChooseDrillBackupActivity), new DrillBackupQuery(source, requireVerified),
            b => $"{b.Name} (taken {b.Timestamp.UtcDateTime:u}) from {b.Location}");
        await RestoreVerifiedAsync(timeline, backup, "restore onto staging");
        await timeline.StepAsync<string>("application login", nameof(ProveApplicationLoginActivity), backup, d => d);
        return (backup, timeline.Steps[^1].FinishedAt);
    }

    /// <summary>Copy onto staging, damage it, detect, repair in place what can be, restore what cannot, verify.</summary>
    private static async Task<(DrillBackup, DateTimeOffset)> CorruptionAsync(Timeline timeline)
    {
        var backup = await timeline.StepAsync<DrillBackup>("choose backup", nameof(ChooseDrillBackupActivity), new DrillBackupQuery(BackupSource.Primary, false), b => b.Name);
        await RestoreVerifiedAsync(timeline, backup, "copy backup onto staging");

        await timeline.StepAsync<Damage>("damage: invalidate an index", nameof(DamageStagingActivity), true, d => d.ToString());
        var found = await DetectAsync(timeline, backup);
        if (found.NotRepairable.Count > 0)
        {
            throw timeline.Fail("decide", "an invalid index alone was classified as not repairable");
        }
        await timeline.StepAsync<IReadOnlyList<string>>("repair in place (REINDEX, VACUUM FULL)", nameof(RepairStagingActivity), true, done => string.Join("; ", done));
        var after = await timeline.StepAsync<IntegrityFindings>("verify repair", nameof(CheckStagingIntegrityActivity), backup, f => f.Clean ? "clean" : "still damaged");
        if (!after.Clean)
        {
            throw timeline.Fail("verify repair", $"still damaged: {Describe([.. after.Repairable, .. after.NotRepairable])}");
        }

        await timeline.StepAsync<Damage>("damage: truncate a table, drop an index", nameof(DamageStagingActivity), false, d => d.ToString());
        found = await DetectAsync(timeline, backup);
        if (found.NotRepairable.Count == 0)
        {
            throw timeline.Fail("decide", "lost rows and a dropped index were classified as repairable");
        }
        await RestoreVerifiedAsync(timeline, backup, "not repairable: restore from backup");
        return (backup, timeline.Steps[^1].FinishedAt);
    }

    private static async Task<IntegrityFindings> DetectAsync(Timeline timeline, DrillBackup backup)
    {
        var findings = await timeline.StepAsync<IntegrityFindings>("integrity checks", nameof(CheckStagingIntegrityActivity), backup,
            f => $"repairable: {Describe(f.Repairable)}; not repairable: {Describe(f.NotRepairable)}");
        return findings.Clean ? throw timeline.Fail("detect damage", "the integrity checks did not detect the damage") : findings;
    }

    private static async Task RestoreVerifiedAsync(Timeline timeline, DrillBackup backup, string name)
    {
        var problems = await timeline.StepAsync<IReadOnlyList<string>>(name, nameof(RestoreToStagingActivity), backup,
            p => p.Count == 0 ? "restored; row and object counts match the backup" : $"{p.Count} differences");
        if (problems.Count > 0)
        {
            throw timeline.Fail("verify restore", $"the restored copy differs from the backup: {Describe(problems)}");
        }
    }

    private static string Describe(IReadOnlyList<string> items) =>
        items.Count == 0 ? "none" : string.Join("; ", items.Take(5)) + (items.Count > 5 ? $" (+{items.Count - 5} more)" : "");

    private static DateTimeOffset Now(TaskOrchestrationContext context) => new(context.CurrentUtcDateTime, TimeSpan.Zero);

    /// <summary>Times each step on the orchestration's (replay-safe) clock; the first failure ends the drill.</summary>
    private sealed class Timeline(TaskOrchestrationContext context, TaskOptions? options)
    {
        private readonly List<DrillStep> _steps = [];

        public IReadOnlyList<DrillStep> Steps => _steps;

        public async Task<T> StepAsync<T>(string name, string activity, object input, Func<T, string> describe)
        {
            var started = Now(context);
            try
            {
                var result = await context.CallActivityAsync<T>(activity, input, options);
                _steps.Add(new DrillStep(name, started, Now(context), true, describe(result)));
                return result;
            }
            catch (TaskFailedException e)
            {
                _steps.Add(new DrillStep(name, started, Now(context), false, WorkflowTasks.Describe(e)));
                throw new DrillStepFailedException(name, WorkflowTasks.Describe(e));
            }
        }

        /// <summary>A check that ran but did not hold: recorded as a failed step; throw what it returns.</summary>
        public DrillStepFailedException Fail(string name, string why)
        {
            _steps.Add(new DrillStep(name, Now(context), Now(context), false, why));
            return new DrillStepFailedException(name, why);
        }
    }
}

public sealed class DrillStepFailedException(string step, string why) : Exception($"step '{step}' failed: {why}");
