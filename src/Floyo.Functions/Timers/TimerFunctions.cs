using Floyo.Recovery.Backups;
using Floyo.Recovery.Workflows.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Floyo.Functions.Timers;

/// <summary>
/// The timers. Each only starts its orchestration, once per schedule slot; the work and its record live in
/// the orchestration. Schedules are app settings (see <see cref="Schedules"/> for names and defaults).
/// </summary>
public sealed class TimerFunctions(ScheduledStarter starter)
{
    [Function("FullBackupTimer")]
    public Task<ScheduledStart> FullBackupAsync([TimerTrigger("%" + Schedules.FullBackupSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        starter.StartAsync(client, Schedules.FullBackup, _ => new BackupWorkflowInput(BackupType.Full, Verify: true, $"timer {Schedules.FullBackup.Function}"), ct);

    [Function("IncrementalBackupTimer")]
    public Task<ScheduledStart> IncrementalBackupAsync([TimerTrigger("%" + Schedules.IncrementalBackupSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        starter.StartAsync(client, Schedules.IncrementalBackup, _ => new BackupWorkflowInput(BackupType.Incremental, Verify: true, $"timer {Schedules.IncrementalBackup.Function}"), ct);

    [Function("ChecksumVerificationTimer")]
    public Task<ScheduledStart> ChecksumVerificationAsync([TimerTrigger("%" + Schedules.ChecksumSweepSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        StartScheduledAsync(client, Schedules.ChecksumSweep, ct);

    [Function("RestoreTestTimer")]
    public Task<ScheduledStart> RestoreTestAsync([TimerTrigger("%" + Schedules.RestoreTestSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        StartScheduledAsync(client, Schedules.RestoreTest, ct);

    [Function("DrDrillTimer")]
    public Task<ScheduledStart> DrDrillAsync([TimerTrigger("%" + Schedules.DrDrillSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        StartScheduledAsync(client, Schedules.DrDrill, ct);

    [Function("RetentionCleanupTimer")]
    public Task<ScheduledStart> RetentionCleanupAsync([TimerTrigger("%" + Schedules.RetentionSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        StartScheduledAsync(client, Schedules.Retention, ct);

    [Function("FilesSnapshotTimer")]
    public Task<ScheduledStart> FilesSnapshotAsync([TimerTrigger("%" + Schedules.FilesSnapshotSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        StartScheduledAsync(client, Schedules.FilesSnapshot, ct);

    [Function("ConfigExportTimer")]
    public Task<ScheduledStart> ConfigExportAsync([TimerTrigger("%" + Schedules.ConfigExportSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        StartScheduledAsync(client, Schedules.ConfigExport, ct);

    private Task<ScheduledStart> StartScheduledAsync(DurableTaskClient client, Schedule schedule, CancellationToken ct) =>
        starter.StartAsync(client, schedule, slot => ScheduledStarter.ScheduledInput(schedule, slot), ct);
}
