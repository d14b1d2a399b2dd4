using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows;

/// <summary>
/// The one registration of every Floyo orchestration and activity, used by the Functions app
/// (<c>ConfigureDurableWorker().AddTasks(r =&gt; r.AddFloyoWorkflows())</c>) and by floyo-dr's embedded host,
/// so both run the very same classes. Each class becomes a function named after it.
/// </summary>
public static class DurableTaskRegistryExtensions
{
    public static IReadOnlyList<Type> Orchestrators { get; } =
    [
        typeof(BackupOrchestrator),
        typeof(RestoreOrchestrator),
        typeof(ChecksumSweepOrchestrator),
        typeof(RestoreTestOrchestrator),
        typeof(RetentionCleanupOrchestrator),
        typeof(DrDrillOrchestrator),
        typeof(DrillOrchestrator),
        typeof(RotationOrchestrator),
        typeof(BreachRecoveryOrchestrator),
        typeof(GdprReminderOrchestrator),
        typeof(FilesSnapshotOrchestrator),
        typeof(ConfigExportOrchestrator),
        typeof(IncidentCommunicationOrchestrator),
    ];

    public static IReadOnlyList<Type> Activities { get; } =
    [
        typeof(TakeFullBackupActivity),
        typeof(TakeIncrementalBackupActivity),
        typeof(CopyWalArchiveActivity),
        typeof(CheckBackupChecksumActivity),
        typeof(VerifyBackupActivity),
        typeof(ReplicateBackupActivity),
        typeof(ListBackupsActivity),
        typeof(PlanRestoreActivity),
        typeof(StopWritesActivity),
        typeof(RestoreBackupActivity),
        typeof(CheckIntegrityActivity),
        typeof(ResumeWritesActivity),
        typeof(ApplyRetentionActivity),
        typeof(SnapshotUploadedFilesActivity),
        typeof(ExportConfigurationActivity),
        typeof(RecordRunActivity),
        typeof(ReadRecoveryTargetsActivity),
        typeof(ChooseDrillBackupActivity),
        typeof(CheckStandbyReadinessActivity),
        typeof(RestoreToStagingActivity),
        typeof(DamageStagingActivity),
        typeof(CheckStagingIntegrityActivity),
        typeof(RepairStagingActivity),
        typeof(CheckDrillPitrActivity),
        typeof(CheckCopyPitrActivity),
        typeof(RecoverStagingToActivity),
        typeof(ProveApplicationLoginActivity),
        typeof(ReleaseDrillRolesActivity),
        typeof(SaveDrillReportActivity),
        typeof(FindRecoveryPointActivity),
        typeof(PlanRotationActivity),
        typeof(ListSecretsForRotationActivity),
        typeof(PublishRotationActivity),
        typeof(DisablePreviousVersionsActivity),
        typeof(RetireOldRoleActivity),
        typeof(EndOldSessionsActivity),
        typeof(CompleteRotationActivity),
        typeof(ReadBreachSettingsActivity),
        typeof(CheckBreachActivity),
        typeof(CaptureEvidenceActivity),
        typeof(IsolateDatabaseActivity),
        typeof(HoldBackupsActivity),
        typeof(FindManagedCredentialsActivity),
        typeof(RestoreCleanBackupActivity),
        typeof(VerifyBreachRestoreActivity),
        typeof(ReleaseIsolationActivity),
        typeof(WritePostMortemActivity),
        typeof(RecordGdprAcknowledgementActivity),
        typeof(NotifyActivity),
        typeof(AlertActivity),
        typeof(ReadCommunicationScheduleActivity),
        typeof(ReadIncidentActivity),
        typeof(CommunicateIncidentActivity),
        typeof(RaiseIncidentActivity),
        typeof(RecordIncidentStageActivity),
    ];

    public static DurableTaskRegistry AddFloyoWorkflows(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var orchestrator in Orchestrators)
        {
            registry.AddOrchestrator(orchestrator);
        }
        foreach (var activity in Activities)
        {
            registry.AddActivity(activity);
        }
        return registry;
    }

    /// <summary>
    /// The class-based <see cref="StartIncidentCommunicationActivity"/>, for hosts whose services hold a Durable
    /// client (floyo-dr, the in-process test hosts). Not in <see cref="AddFloyoWorkflows"/>: the Functions app
    /// has its own function of that name, its client a binding.
    /// </summary>
    public static DurableTaskRegistry AddFloyoIncidentStarter(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddActivity<StartIncidentCommunicationActivity>();
        return registry;
    }
}
