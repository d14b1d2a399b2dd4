using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using System.Globalization;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// One DR drill against staging. Every step is an activity timed on the orchestration's clock, so the
/// timeline, the achieved RTO (declared incident to verified service) and RPO (restore point to incident)
/// survive restarts. A drill passes only when every check held and both targets were met; its report is
/// stored write-once. Roles the drill had to create on the staging server are dropped at its end, passed or
/// failed, with the staging copy that depends on them (staging may be production's server, where a missing
/// role was most likely dropped on purpose); a staging server that had every role keeps its copy.
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
                    // First: could the standby take over at all (copies reachable and current, tools fit)?
                    await timeline.StepAsync<string>("standby readiness", nameof(CheckStandbyReadinessActivity), true, d => d);
                    (backup, serviceVerifiedAt) = await RestoreAndProveAsync(timeline, BackupSource.Secondary, requireVerified: true);
                    (backup, serviceVerifiedAt) = await RecoverFromCopyAsync(timeline, backup, incident) ?? (backup, serviceVerifiedAt);
                    break;
                case DrillScenario.DatabaseCorruption:
                    (backup, serviceVerifiedAt) = await CorruptionAsync(timeline);
                    break;
                case DrillScenario.SecurityBreach:
                    (backup, serviceVerifiedAt) = await SecurityBreachAsync(context, timeline, incident, input);
                    break;
                default:
                    throw new RecoveryException($"drill scenario '{scenario}' has no steps");
            }
        }
        catch (DrillStepFailedException e)
        {
            status = DrillStatus.Failed;
            failures.Add(e.Message);
        }
        if (timeline.CreatedRoles.Count > 0)
        {
            // Passed or failed, the staging server keeps no role the drill made (it may be production's server).
            try
            {
                await timeline.StepAsync<string>("drop the roles the drill created", nameof(ReleaseDrillRolesActivity), timeline.CreatedRoles.ToList(), d => d);
            }
            catch (DrillStepFailedException e)
            {
                status = DrillStatus.Failed;
                failures.Add(e.Message);
            }
        }

        TimeSpan? rto = null, rpo = null;
        // The archive's health is read whenever a backup was restored: a broken archive is worth knowing in a failed drill too.
        var archive = backup is null ? null : await ContinuousWalAsync(context, backup, input);
        if (status == DrillStatus.Passed && backup is not null && serviceVerifiedAt is { } verified)
        {
            var point = RecoveryMeasurement.RecoveryPoint(backup.Timestamp, archive?.WalTime, incident);
            var (achievedRto, achievedRpo, missed) = RecoveryMeasurement.Evaluate(incident, point, verified, targets);
            (rto, rpo) = (achievedRto, achievedRpo);
            if (missed.Count > 0)
            {
                status = DrillStatus.Failed;
                failures.AddRange(missed);
            }
        }
        var rpoFindings = archive?.Findings ?? [];
        if (rpoFindings.Count > 0)
        {
            // As in /api/health and list: a stalled archiver, a gap or a lagging copy is an RPO breach, whatever the RPO measured.
            status = DrillStatus.Failed;
            failures.AddRange(rpoFindings.Select(f => $"RPO breached: the WAL archive is not healthy: {f}"));
        }
        var report = new DrillReport(id, scenario, status, incident, Now(context), backup?.Name, backup?.Timestamp, rto, rpo, targets, timeline.Steps, failures)
        {
            RpoFindings = rpoFindings,
        };
        await context.CallActivityAsync<string>(nameof(SaveDrillReportActivity), report, WorkflowTasks.Options(input.Retry));
        context.SetCustomStatus($"drill {id}: {status}");
        if (status != DrillStatus.Passed)
        {
            logger.WorkflowFailed(nameof(DrillOrchestrator), context.InstanceId, string.Join("; ", failures), null);
            // A drill that fails means recovery, as it stands, would fail too.
            await WorkflowTasks.NotifyAsync(context, "failed", NotificationSeverity.Critical, $"DR drill {id} {status}",
                $"{string.Join("; ", failures)}. Report: {report.MarkdownName}.", id);
            // In production (INCIDENT_ON_DRILL_FAILURE, by default the Functions app's drills) it is an incident:
            // one per scenario while it stays open, the next failing drill of it recorded on the same one.
            await WorkflowTasks.RaiseIncidentAsync(context, new Incidents.IncidentTrigger(
                Incidents.IncidentCause.DrillFailed, scenario, context.InstanceId, $"DR drill {scenario} failed: recovery as it stands would fail",
                NotificationSeverity.Critical, $"drill workflow ({input.Trigger})", "drill-failed",
                $"{string.Join("; ", failures)}. Report: {report.MarkdownName}; drill {id}, workflow {context.InstanceId}."));
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
        await timeline.StepAsync<string>("application login", nameof(ProveApplicationLoginActivity),
            new ApplicationLoginCheck(backup, [.. timeline.CreatedRoles]), d => d);
        return (backup, timeline.Steps[^1].FinishedAt);
    }

    /// <summary>
    /// The data-centre drill's proof of the second copy's WAL archive: when the copy holds a base backup, it and the
    /// copy's archived WAL alone are replayed to the incident (or the copy's archive end) and the recovered database
    /// replaces the dump's on staging; the recovery point is then what was replayed, not what the archive claims.
    /// Null (the dump stands) when WAL archiving is not in use or this machine cannot run the server; a copy that the
    /// primary's base backups never reached fails the drill.
    /// </summary>
    private static async Task<(DrillBackup, DateTimeOffset)?> RecoverFromCopyAsync(Timeline timeline, DrillBackup dump, DateTimeOffset incident)
    {
        var available = await timeline.StepAsync<PitrAvailability>("point-in-time recovery from the second copy available", nameof(CheckCopyPitrActivity), BackupSource.Secondary, a => a.Detail);
        if (!available.Available)
        {
            return null;
        }
        var recovered = await timeline.StepAsync<StagingPitr>("point-in-time recovery from the second copy alone", nameof(RecoverStagingToActivity),
            new StagingPitrRequest(dump, incident, BackupSource.Secondary), r => r.Describe());
        timeline.AddCreatedRoles(recovered.CreatedRoles);
        var point = new DrillBackup(BackupSource.Secondary, $"{recovered.BaseBackup} + WAL to {Wal.PitrPlanner.Show(recovered.RecoveredTo)}", recovered.RecoveredTo, recovered.Location);
        return (point, timeline.Steps[^1].FinishedAt);
    }

    /// <summary>
    /// Where the continuous WAL archive of the copy the drill restored from ends (the primary's, or when the drill
    /// restored from a further copy that copy's own: the primary's archive is what that scenario has lost), with the
    /// archive's findings. Unreadable: the backup's time stands, and no finding.
    /// </summary>
    private static async Task<ArchiveRecoveryPoint?> ContinuousWalAsync(TaskOrchestrationContext context, DrillBackup backup, DrillInput input)
    {
        try
        {
            return await context.CallActivityAsync<ArchiveRecoveryPoint>(nameof(FindRecoveryPointActivity),
                backup.Source == BackupSource.Primary ? "" : backup.Source.ToString().ToLowerInvariant(), WorkflowTasks.Options(input.Retry));
        }
        catch (TaskFailedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Copy onto staging, damage it, detect, repair in place what can be; what cannot is recovered with the WAL
    /// archive to just before the damage when there is one (else restored from the dump); verify.
    /// </summary>
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

        var damage = await timeline.StepAsync<Damage>("damage: truncate a table, drop an index", nameof(DamageStagingActivity), false, d => d.ToString());
        found = await DetectAsync(timeline, backup);
        if (found.NotRepairable.Count == 0)
        {
            throw timeline.Fail("decide", "lost rows and a dropped index were classified as repairable");
        }
        // The plan's step 5: replay the transactions since the backup, up to just before the damage, when there is an archive.
        var pitr = await timeline.StepAsync<PitrAvailability>("point-in-time recovery available", nameof(CheckDrillPitrActivity), true, a => a.Detail);
        if (pitr.Available && damage.At is { } damagedAt)
        {
            var recovered = await timeline.StepAsync<StagingPitr>("not repairable: point-in-time recovery to just before the damage", nameof(RecoverStagingToActivity),
                new StagingPitrRequest(backup, damagedAt), r => r.Describe());
            timeline.AddCreatedRoles(recovered.CreatedRoles);
            var point = new DrillBackup(BackupSource.Primary, $"{recovered.BaseBackup} + WAL to {Wal.PitrPlanner.Show(recovered.RecoveredTo)}", recovered.RecoveredTo, recovered.Location);
            return (point, timeline.Steps[^1].FinishedAt);
        }
        await RestoreVerifiedAsync(timeline, backup, "not repairable: restore from backup");
        return (backup, timeline.Steps[^1].FinishedAt);
    }

    /// <summary>
    /// Q4: production's latest verified backup onto staging (the "compromised" database), then the breach
    /// recovery workflow in drill mode against staging: isolation, evidence, the clean-backup choice, the
    /// restore, verification and the release all happen there; production's backups are not held and its
    /// credentials are only named. The drill approves and acknowledges for itself. Service is verified when
    /// the workflow has restored, verified and reopened staging.
    /// </summary>
    private static async Task<(DrillBackup, DateTimeOffset)> SecurityBreachAsync(TaskOrchestrationContext context, Timeline timeline, DateTimeOffset incident, DrillInput input)
    {
        var latest = await timeline.StepAsync<DrillBackup>("choose backup", nameof(ChooseDrillBackupActivity), new DrillBackupQuery(BackupSource.Primary, true), b => b.Name);
        await RestoreVerifiedAsync(timeline, latest, "restore onto staging");

        var started = Now(context);
        // The rehearsed breach began after the backup just restored (names have one-second resolution, and
        // "before --since" is strict), so the workflow chooses that backup as the clean one.
        var since = incident > latest.Timestamp.AddSeconds(1) ? incident : latest.Timestamp.AddSeconds(1);
        BreachReport report;
        try
        {
            report = await context.CallSubOrchestratorAsync<BreachReport>(nameof(BreachRecoveryOrchestrator),
                new BreachRecoveryInput(BreachSince.Format(since), $"quarterly security-breach drill ({input.Trigger})", "drill", Drill: true, Unattended: true, input.Retry),
                new SubOrchestrationOptions { InstanceId = $"{context.InstanceId}-breach" });
        }
        catch (TaskFailedException e)
        {
            throw timeline.Fail("breach recovery (drill)", WorkflowTasks.Describe(e));
        }
        var previous = started;
        foreach (var entry in report.Timeline)
        {
            timeline.Record($"breach: {entry.Step}", previous, entry.At, entry.Step is not ("failed" or "approval-timed-out" or "gdpr-reminders-failed"), entry.Detail);
            previous = entry.At;
        }
        if (report.Outcome != BreachOutcome.Recovered)
        {
            throw timeline.Fail("breach recovery (drill)", report.Error ?? $"the breach workflow ended as {report.Outcome}");
        }
        var backup = new DrillBackup(BackupSource.Primary, report.Backup.Backup, report.Backup.Timestamp, latest.Location);
        return (backup, report.RecoveryFinishedAt);
    }

    private static async Task<IntegrityFindings> DetectAsync(Timeline timeline, DrillBackup backup)
    {
        var findings = await timeline.StepAsync<IntegrityFindings>("integrity checks", nameof(CheckStagingIntegrityActivity), backup,
            f => $"repairable: {Describe(f.Repairable)}; not repairable: {Describe(f.NotRepairable)}");
        return findings.Clean ? throw timeline.Fail("detect damage", "the integrity checks did not detect the damage") : findings;
    }

    private static async Task RestoreVerifiedAsync(Timeline timeline, DrillBackup backup, string name)
    {
        var restored = await timeline.StepAsync<StagingRestore>(name, nameof(RestoreToStagingActivity), backup,
            r => (r.Problems.Count == 0 ? "restored; row and object counts match the backup" : $"{r.Problems.Count} differences")
                + (r.CreatedRoles.Count > 0 ? $"; created missing roles: {string.Join(", ", r.CreatedRoles)}" : ""));
        timeline.AddCreatedRoles(restored.CreatedRoles);
        if (restored.Problems.Count > 0)
        {
            throw timeline.Fail("verify restore", $"the restored copy differs from the backup: {Describe(restored.Problems)}");
        }
    }

    private static string Describe(IReadOnlyList<string> items) =>
        items.Count == 0 ? "none" : string.Join("; ", items.Take(5)) + (items.Count > 5 ? $" (+{items.Count - 5} more)" : "");

    private static DateTimeOffset Now(TaskOrchestrationContext context) => new(context.CurrentUtcDateTime, TimeSpan.Zero);

    /// <summary>Times each step on the orchestration's (replay-safe) clock; the first failure ends the drill.</summary>
    private sealed class Timeline(TaskOrchestrationContext context, TaskOptions? options)
    {
        private readonly List<DrillStep> _steps = [];
        private readonly List<string> _createdRoles = [];

        public IReadOnlyList<DrillStep> Steps => _steps;

        /// <summary>Roles the drill's restores created on the staging server, in order: the drill drops them at its end.</summary>
        public IReadOnlyList<string> CreatedRoles => _createdRoles;

        public void AddCreatedRoles(IEnumerable<string> roles) => _createdRoles.AddRange(roles.Where(r => !_createdRoles.Contains(r)));

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

        /// <summary>A step that happened inside a sub-orchestration, timed by its own record.</summary>
        public void Record(string name, DateTimeOffset started, DateTimeOffset finished, bool succeeded, string detail) =>
            _steps.Add(new DrillStep(name, started, finished, succeeded, detail));

        /// <summary>A check that ran but did not hold: recorded as a failed step; throw what it returns.</summary>
        public DrillStepFailedException Fail(string name, string why)
        {
            _steps.Add(new DrillStep(name, Now(context), Now(context), false, why));
            return new DrillStepFailedException(name, why);
        }
    }
}

public sealed class DrillStepFailedException(string step, string why) : Exception($"step '{step}' failed: {why}");
