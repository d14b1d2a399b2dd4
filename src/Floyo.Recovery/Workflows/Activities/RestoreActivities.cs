using System.Diagnostics;
using Floyo.Recovery.Access;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>
/// Validates a restore request and decides what it will do (RestoreRunner.PlanAsync), including whether it needs
/// approval, from this process's settings rather than the request; touches nothing.
/// </summary>
public sealed class PlanRestoreActivity(RestoreRunner runner, IOptions<DatabaseOptions> database, IOptions<WorkflowOptions> workflow, WorkflowRuntime runtime, ILogger<PlanRestoreActivity> logger)
    : RecoveryActivity<RestorePlanInput, RestorePlanned>(runtime, logger)
{
    protected override async Task<RestorePlanned> ExecuteAsync(RestorePlanInput input, TaskActivityContext context, CancellationToken ct)
    {
        var plan = await runner.PlanAsync(new RestoreRequest(input.Backup, input.TargetDatabase, input.DropExisting, input.From), ct);
        var production = DatabaseUrl.Parse(database.Value.DatabaseUrl).Database;
        var meta = plan.Backup.Metadata;
        var isProduction = string.Equals(plan.TargetDatabase, production, StringComparison.Ordinal);
        var required = workflow.Value.ApprovalRequired;
        return new RestorePlanned(meta.Name, meta.Sha256, meta.SizeBytes, plan.Server, plan.TargetDatabase, plan.TargetExists, plan.ReplacesExisting,
            isProduction, ApprovalRequired: required || isProduction, RequesterMayApprove: Runtime.OperatorAtTerminal && !required);
    }
}

/// <summary>
/// Stops the application's writes to the target through the <see cref="ConnectGate"/>: records who holds
/// CONNECT (in the store, before changing anything, so a retried attempt or an operator can give back
/// exactly that), revokes it from everyone but superusers, proves the application roles are out, ends sessions.
/// </summary>
public sealed class StopWritesActivity(ConnectGate gate, DatabaseConnections connections, IOptions<WorkflowOptions> options, IOptions<RotationOptions> rotation,
    WorkflowRuntime runtime, ILogger<StopWritesActivity> logger)
    : RecoveryActivity<StopWritesInput, WriteFreeze>(runtime, logger)
{
    public static string RecordNameFor(string instanceId) => $"{RecordRunActivity.Prefix}write-freezes/{instanceId}.json";

    protected override async Task<WriteFreeze> ExecuteAsync(StopWritesInput input, TaskActivityContext context, CancellationToken ct)
    {
        var server = await connections.DatabaseAsync(ct);
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
        if (!await PgConnector.DatabaseExistsAsync(admin, input.TargetDatabase, ct))
        {
            return WriteFreeze.NotNeeded(input.TargetDatabase);
        }
        var recordName = ObjectName.Check(RecordNameFor(input.InstanceId));
        var (roles, named) = options.Value.AppRolesOrDefault(rotation.Value);
        var closed = await gate.CloseAsync(admin, recordName, input.TargetDatabase, GatePolicy.ForRestore(roles, named), ct);
        var freeze = new WriteFreeze(input.TargetDatabase, true, closed.Record, closed.SessionsEnded, recordName);
        logger.WritesStopped(freeze.Database, string.Join(", ", freeze.ConnectGrantees.Concat(closed.Record.Roles).Distinct()), closed.SessionsEnded);
        return freeze;
    }
}

/// <summary>
/// Streams the backup (whose checksum the workflow proved a step earlier, and which is proven again on the
/// way) into a staging database, compares it, closes it to the application like the target, and renames it
/// into place. One activity, so the staging database never outlives a worker that could clean it up.
/// </summary>
public sealed class RestoreBackupActivity(RestoreRunner runner, BackupStores stores, ConnectGate gate, WorkflowRuntime runtime, ILogger<RestoreBackupActivity> logger)
    : RecoveryActivity<RestoreStepInput, RestoreResult>(runtime, logger)
{
    protected override async Task<RestoreResult> ExecuteAsync(RestoreStepInput input, TaskActivityContext context, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var plan = await runner.PlanAsync(new RestoreRequest(input.Backup, input.TargetDatabase, input.DropExisting, input.From), ct);
        var backup = new StoredBackup(stores.For(input.From), plan.Backup, Runtime.Progress, ChecksumProven: true);
        var freeze = input.Freeze;
        return await runner.ExecuteAsync(plan, backup, started, ct, freeze is { Applied: true, Gate: { } record }
            ? (admin, staging, token) => gate.CloseCopyAsync(admin, staging, record, token)
            : null);
    }
}

/// <summary>Checks the database now holding the target's name against the backup (IntegrityChecker); read-only.</summary>
public sealed class CheckIntegrityActivity(BackupCatalog catalog, BackupStores stores, DatabaseConnections connections, WorkflowRuntime runtime, ILogger<CheckIntegrityActivity> logger)
    : RecoveryActivity<IntegrityInput, IntegrityReport>(runtime, logger)
{
    protected override async Task<IntegrityReport> ExecuteAsync(IntegrityInput input, TaskActivityContext context, CancellationToken ct)
    {
        var entry = await stores.Catalog(input.From, catalog).FindAsync(input.Backup, ct);
        var findings = await IntegrityChecker.CheckAsync(await connections.DatabaseAsync(ct), input.TargetDatabase, entry.Metadata, ct, input.VerifiedOid);
        return new IntegrityReport(input.TargetDatabase, findings.Clean, findings.All);
    }
}

/// <summary>Gives CONNECT back to exactly the grantees recorded when writes were stopped.</summary>
public sealed class ResumeWritesActivity(ConnectGate gate, DatabaseConnections connections, WorkflowRuntime runtime, ILogger<ResumeWritesActivity> logger)
    : RecoveryActivity<WriteFreeze, bool>(runtime, logger)
{
    protected override async Task<bool> ExecuteAsync(WriteFreeze freeze, TaskActivityContext context, CancellationToken ct)
    {
        if (freeze is not { Applied: true, Gate: { } record })
        {
            return false;
        }
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(await connections.DatabaseAsync(ct), ct);
        var granted = await gate.ReopenAsync(admin, record, ct);
        logger.WritesResumed(freeze.Database, string.Join(", ", granted));
        return true;
    }
}
