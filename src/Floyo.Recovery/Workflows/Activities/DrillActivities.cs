using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Drills;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>Input of <see cref="ChooseDrillBackupActivity"/>.</summary>
public sealed record DrillBackupQuery(BackupSource Source, bool RequireVerified);

public sealed class ChooseDrillBackupActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<ChooseDrillBackupActivity> logger)
    : RecoveryActivity<DrillBackupQuery, DrillBackup>(runtime, logger)
{
    protected override Task<DrillBackup> ExecuteAsync(DrillBackupQuery input, TaskActivityContext context, CancellationToken ct) =>
        steps.ChooseBackupAsync(input.Source, input.RequireVerified, ct);
}

/// <summary>The data-centre drill's readiness step: the copies reachable and current, the tools present and new enough.</summary>
public sealed class CheckStandbyReadinessActivity(StandbyReadiness readiness, WorkflowRuntime runtime, ILogger<CheckStandbyReadinessActivity> logger)
    : RecoveryActivity<bool, string>(runtime, logger)
{
    protected override Task<string> ExecuteAsync(bool input, TaskActivityContext context, CancellationToken ct) => readiness.CheckAsync(ct);
}

public sealed class RestoreToStagingActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<RestoreToStagingActivity> logger)
    : RecoveryActivity<DrillBackup, StagingRestore>(runtime, logger)
{
    protected override Task<StagingRestore> ExecuteAsync(DrillBackup input, TaskActivityContext context, CancellationToken ct) =>
        steps.RestoreToStagingAsync(input, ct);
}

/// <summary>Drops the staging copy and then the roles the drill created on the staging server.</summary>
public sealed class ReleaseDrillRolesActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<ReleaseDrillRolesActivity> logger)
    : RecoveryActivity<IReadOnlyList<string>, string>(runtime, logger)
{
    protected override Task<string> ExecuteAsync(IReadOnlyList<string> input, TaskActivityContext context, CancellationToken ct) =>
        steps.ReleaseCreatedRolesAsync(input, ct);
}

public sealed class DamageStagingActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<DamageStagingActivity> logger)
    : RecoveryActivity<bool, Damage>(runtime, logger)
{
    protected override Task<Damage> ExecuteAsync(bool repairable, TaskActivityContext context, CancellationToken ct) =>
        steps.DamageAsync(repairable, ct);
}

public sealed class CheckStagingIntegrityActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<CheckStagingIntegrityActivity> logger)
    : RecoveryActivity<DrillBackup, IntegrityFindings>(runtime, logger)
{
    protected override Task<IntegrityFindings> ExecuteAsync(DrillBackup input, TaskActivityContext context, CancellationToken ct) =>
        steps.CheckIntegrityAsync(input, ct);
}

public sealed class RepairStagingActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<RepairStagingActivity> logger)
    : RecoveryActivity<bool, IReadOnlyList<string>>(runtime, logger)
{
    protected override Task<IReadOnlyList<string>> ExecuteAsync(bool input, TaskActivityContext context, CancellationToken ct) =>
        steps.RepairAsync(ct);
}

/// <summary>Whether the corruption drill can replay the WAL archive up to the damage (else it restores the dump).</summary>
public sealed class CheckDrillPitrActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<CheckDrillPitrActivity> logger)
    : RecoveryActivity<bool, PitrAvailability>(runtime, logger)
{
    protected override Task<PitrAvailability> ExecuteAsync(bool input, TaskActivityContext context, CancellationToken ct) =>
        steps.PitrAvailabilityAsync(ct);
}

/// <summary>Whether the data-centre drill can replay a further copy's own WAL archive (a copy the primary's base backups never reached fails the step).</summary>
public sealed class CheckCopyPitrActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<CheckCopyPitrActivity> logger)
    : RecoveryActivity<BackupSource, PitrAvailability>(runtime, logger)
{
    protected override Task<PitrAvailability> ExecuteAsync(BackupSource input, TaskActivityContext context, CancellationToken ct) =>
        steps.PitrAvailabilityAsync(input, ct);
}

/// <summary>Base backup + archived WAL recovered to just before the damage, copied onto staging through the safe restore.</summary>
public sealed class RecoverStagingToActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<RecoverStagingToActivity> logger)
    : RecoveryActivity<StagingPitrRequest, StagingPitr>(runtime, logger)
{
    protected override Task<StagingPitr> ExecuteAsync(StagingPitrRequest input, TaskActivityContext context, CancellationToken ct) =>
        steps.RecoverStagingToAsync(input, ct);
}

public sealed class ProveApplicationLoginActivity(DrillSteps steps, WorkflowRuntime runtime, ILogger<ProveApplicationLoginActivity> logger)
    : RecoveryActivity<ApplicationLoginCheck, string>(runtime, logger)
{
    protected override Task<string> ExecuteAsync(ApplicationLoginCheck input, TaskActivityContext context, CancellationToken ct) =>
        steps.ProveApplicationLoginAsync(input, ct);
}

public sealed class SaveDrillReportActivity(DrillReports reports, WorkflowRuntime runtime, ILogger<SaveDrillReportActivity> logger)
    : RecoveryActivity<DrillReport, string>(runtime, logger)
{
    protected override async Task<string> ExecuteAsync(DrillReport input, TaskActivityContext context, CancellationToken ct)
    {
        await reports.SaveAsync(input, ct);
        return input.MarkdownName;
    }
}

/// <summary>The recovery targets as configured where the activities run (orchestrators read no configuration).</summary>
public sealed class ReadRecoveryTargetsActivity(Microsoft.Extensions.Options.IOptions<Configuration.RecoveryTargetOptions> options, WorkflowRuntime runtime, ILogger<ReadRecoveryTargetsActivity> logger)
    : RecoveryActivity<bool, RecoveryTargets>(runtime, logger)
{
    protected override Task<RecoveryTargets> ExecuteAsync(bool input, TaskActivityContext context, CancellationToken ct) =>
        Task.FromResult(new RecoveryTargets(options.Value.RtoTarget, options.Value.RpoTarget, options.Value.RtoMax, options.Value.RpoMax));
}

/// <summary>
/// The end of the WAL archive proven continuous from the newest base backup in the copy the drill restored from
/// (input: its <see cref="BackupSource"/> name; empty for the primary), with the archive's findings: for the primary
/// the server's archiver and slots, a gap, the further copies' lag; for a further copy its gap and its own lag.
/// </summary>
public sealed class FindRecoveryPointActivity(Wal.RecoveryPointFinder finder, Backups.BackupCatalog catalog, BackupStores stores, Wal.WalCopyLagProbe copies,
    WorkflowRuntime runtime, ILogger<FindRecoveryPointActivity> logger)
    : RecoveryActivity<string, ArchiveRecoveryPoint>(runtime, logger)
{
    protected override async Task<ArchiveRecoveryPoint> ExecuteAsync(string input, TaskActivityContext context, CancellationToken ct)
    {
        var source = BackupStores.ParseSource(input);
        if (source == BackupSource.Primary)
        {
            var point = await finder.FindAsync(null, ct);
            return new ArchiveRecoveryPoint(point.WalTime, point.Findings);
        }
        var copy = await new Wal.RecoveryPointFinder(stores.Catalog(source, catalog)).FindAsync(null, ct);
        var lag = (await copies.StatesAsync(ct)).Where(s => s.Copy == source).Select(s => s.Finding).OfType<string>();
        return new ArchiveRecoveryPoint(copy.WalTime, [.. copy.Findings, .. lag]);
    }
}
