using System.Text.Json;
using Floyo.Recovery.AppData;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>
/// Applies retention (RetentionPlanner): expired backups and orphaned data objects are deleted, protected ones kept;
/// then that of point-in-time recovery (WalRetention): old base backups and the WAL no kept base backup needs, in the
/// primary store and in the second copy.
/// </summary>
public sealed class ApplyRetentionActivity(RetentionPlanner planner, WalRetention walRetention, BackupStores stores, WorkflowRuntime runtime, ILogger<ApplyRetentionActivity> logger)
    : RecoveryActivity<string, RetentionSummary>(runtime, logger)
{
    protected override async Task<RetentionSummary> ExecuteAsync(string trigger, TaskActivityContext context, CancellationToken ct)
    {
        var plan = await planner.PlanAsync(ct);
        var failures = await planner.ApplyAsync(plan, ct);
        var copies = await walRetention.ApplyToEveryCopyAsync(stores, ct);
        // The second copy's deletions are named with their store, so the record tells the copies apart.
        var walDeleted = copies.SelectMany(c => c.Plan.DeletedBases.Concat(c.Plan.DeletedIncrementals).Concat(c.Plan.DeletedWal.Select(WalArchiveRecord.DataName))
            .Select(name => c.Source == BackupSource.Primary ? name : $"{c.Store}: {name}"));
        var primaryKept = copies.FirstOrDefault(c => c.Source == BackupSource.Primary)?.Plan.KeptBases.Count ?? 0;
        return new RetentionSummary([.. plan.Deletions.Select(d => d.Backup), .. walDeleted],
            plan.Orphans, plan.Decisions.Count(d => !d.Delete) + primaryKept, [.. failures, .. copies.SelectMany(c => c.Failures)]) { Findings = plan.Findings };
    }
}

public sealed class SnapshotUploadedFilesActivity(FilesSnapshotter snapshotter, WorkflowRuntime runtime, ILogger<SnapshotUploadedFilesActivity> logger)
    : RecoveryActivity<DateTimeOffset, ScheduledJobResult>(runtime, logger)
{
    protected override async Task<ScheduledJobResult> ExecuteAsync(DateTimeOffset slot, TaskActivityContext context, CancellationToken ct)
    {
        var snapshot = await snapshotter.SnapshotAsync(ct);
        return new ScheduledJobResult("files-snapshot", WorkflowOutcome.Succeeded,
            $"{snapshot.Manifest}: {snapshot.Files} files, {snapshot.CopiedFiles} copied, {snapshot.ReusedFiles} unchanged");
    }
}

public sealed class ExportConfigurationActivity(ConfigExporter exporter, WorkflowRuntime runtime, ILogger<ExportConfigurationActivity> logger)
    : RecoveryActivity<DateTimeOffset, ScheduledJobResult>(runtime, logger)
{
    protected override async Task<ScheduledJobResult> ExecuteAsync(DateTimeOffset slot, TaskActivityContext context, CancellationToken ct)
    {
        var export = await exporter.ExportAsync(ct);
        return new ScheduledJobResult("config-export", WorkflowOutcome.Succeeded,
            $"{export.Name}: {export.Settings} settings ({export.Secrets} secret values withheld, {export.KeyVaultReferences} Key Vault references)");
    }
}

/// <summary>
/// Stores a workflow's result as <c>runs/&lt;workflow&gt;/&lt;instance&gt;.json</c>. Idempotent: a record already
/// written by an earlier attempt of the same instance is kept (the store never overwrites).
/// </summary>
public sealed class RecordRunActivity(IBackupStore store, WorkflowRuntime runtime, ILogger<RecordRunActivity> logger)
    : RecoveryActivity<RunRecordInput, string>(runtime, logger)
{
    public const string Prefix = "runs/";

    public static string NameFor(string workflow, string instanceId) => $"{Prefix}{workflow}/{instanceId}.json";

    protected override async Task<string> ExecuteAsync(RunRecordInput input, TaskActivityContext context, CancellationToken ct)
    {
        var name = ObjectName.Check(NameFor(input.Workflow, input.InstanceId));
        if (await store.GetAsync(name, ct) is not null)
        {
            return name;
        }
        using var result = JsonDocument.Parse(input.ResultJson);
        var record = new { workflow = input.Workflow, instanceId = input.InstanceId, outcome = input.Outcome, at = input.At, result = result.RootElement };
        await store.WriteAllAsync(name, JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);
        return name;
    }
}
