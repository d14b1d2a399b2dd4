using Floyo.Recovery.Backups;
using Floyo.Recovery.Workflows.Models;

namespace Floyo.Recovery.Workflows;

// Seams for engine parts built elsewhere (the secondary copy, uploaded-files snapshots, configuration
// export). The workflows call these; until a real implementation is registered, the defaults below say
// plainly that nothing was done, so a run never claims a copy or snapshot that does not exist.

/// <summary>Makes the second copy of a committed, checked backup (another account or region).</summary>
public interface IBackupReplicator
{
    Task<ReplicationResult> ReplicateAsync(BackupEntry backup, CancellationToken ct);
}

/// <summary>Takes the daily snapshot of the application's uploaded files.</summary>
public interface IUploadedFilesSnapshotter
{
    Task<ScheduledJobResult> SnapshotAsync(DateTimeOffset slot, CancellationToken ct);
}

/// <summary>Exports the application's configuration (settings, not secrets) for the daily record.</summary>
public interface IConfigurationExporter
{
    Task<ScheduledJobResult> ExportAsync(DateTimeOffset slot, CancellationToken ct);
}

internal sealed class UnconfiguredBackupReplicator : IBackupReplicator
{
    public Task<ReplicationResult> ReplicateAsync(BackupEntry backup, CancellationToken ct) =>
        Task.FromResult(new ReplicationResult(backup.Name, false, "no secondary copy is configured in this build; the backup exists in the primary store only"));
}

internal sealed class UnconfiguredFilesSnapshotter : IUploadedFilesSnapshotter
{
    public Task<ScheduledJobResult> SnapshotAsync(DateTimeOffset slot, CancellationToken ct) =>
        Task.FromResult(new ScheduledJobResult("files-snapshot", WorkflowOutcome.NotAvailable, "uploaded-files snapshots are not available in this build; nothing was copied"));
}

internal sealed class UnconfiguredConfigurationExporter : IConfigurationExporter
{
    public Task<ScheduledJobResult> ExportAsync(DateTimeOffset slot, CancellationToken ct) =>
        Task.FromResult(new ScheduledJobResult("config-export", WorkflowOutcome.NotAvailable, "configuration export is not available in this build; nothing was exported"));
}
