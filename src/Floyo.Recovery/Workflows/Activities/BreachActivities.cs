using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
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

// One activity per step of the breach workflow. Each is safe to run twice: it re-reads the store and the
// server, and what it writes is either write-once (a rerun finds it) or a GRANT/REVOKE that converges.

public sealed class ReadBreachSettingsActivity(IOptions<BreachOptions> options, WorkflowRuntime runtime, ILogger<ReadBreachSettingsActivity> logger)
    : RecoveryActivity<bool, BreachSettings>(runtime, logger)
{
    protected override Task<BreachSettings> ExecuteAsync(bool input, TaskActivityContext context, CancellationToken ct) =>
        Task.FromResult(new BreachSettings(options.Value.ApprovalTimeout, options.Value.ReminderInterval, options.Value.RotationGraceSeconds));
}

/// <summary>--since, the clean backup and the target (BreachPreflight). Changes nothing.</summary>
public sealed class CheckBreachActivity(BreachPreflight preflight, WorkflowRuntime runtime, ILogger<CheckBreachActivity> logger)
    : RecoveryActivity<BreachRecoveryInput, BreachCheck>(runtime, logger)
{
    protected override Task<BreachCheck> ExecuteAsync(BreachRecoveryInput input, TaskActivityContext context, CancellationToken ct) =>
        preflight.CheckAsync(input.Since, input.Drill, ct);
}

public sealed class CaptureEvidenceActivity(EvidenceCollector collector, WorkflowRuntime runtime, ILogger<CaptureEvidenceActivity> logger)
    : RecoveryActivity<EvidenceInput, EvidenceManifest>(runtime, logger)
{
    protected override Task<EvidenceManifest> ExecuteAsync(EvidenceInput input, TaskActivityContext context, CancellationToken ct) =>
        collector.CollectAsync(input.Incident, input.Timeline, ct, input.Label);
}

public sealed class IsolateDatabaseActivity(DatabaseIsolator isolator, WorkflowRuntime runtime, ILogger<IsolateDatabaseActivity> logger)
    : RecoveryActivity<Incident, IsolationResult>(runtime, logger)
{
    protected override Task<IsolationResult> ExecuteAsync(Incident input, TaskActivityContext context, CancellationToken ct) =>
        isolator.IsolateAsync(input, ct);
}

/// <summary>Legal hold from the backup chosen for the restore (the input's <c>Backup</c>) onward.</summary>
public sealed class HoldBackupsActivity(BackupHolds holds, BreachTargets targets, WorkflowRuntime runtime, ILogger<HoldBackupsActivity> logger)
    : RecoveryActivity<BreachRestoreInput, HeldBackups>(runtime, logger)
{
    protected override Task<HeldBackups> ExecuteAsync(BreachRestoreInput input, TaskActivityContext context, CancellationToken ct) =>
        holds.HoldAsync(targets.BackupDatabase, input.Backup, input.Incident.Since, ct, apply: !input.Incident.Drill);
}

/// <summary>
/// The credentials the workflow rotates, read from the secret store without changing it: the application's
/// database credential (when the store holds it) and every secret tagged for random rotation. In a drill
/// this is all that happens: production's credentials are named, not rotated.
/// </summary>
public sealed class FindManagedCredentialsActivity(ISecretStore store, IOptions<RotationOptions> rotation, WorkflowRuntime runtime, ILogger<FindManagedCredentialsActivity> logger)
    : RecoveryActivity<Incident, ManagedCredentials>(runtime, logger)
{
    protected override async Task<ManagedCredentials> ExecuteAsync(Incident input, TaskActivityContext context, CancellationToken ct)
    {
        var settings = rotation.Value;
        var current = await store.GetCurrentAsync(settings.Secret, ct);
        string? role = null, next = null;
        if (current is not null)
        {
            role = current.Properties.Tag(SecretTags.Role) ?? (DatabaseCredential.TryParse(current.Value, out var credential) ? credential!.Username : null);
            next = role == settings.BlueRole ? settings.GreenRole : role == settings.GreenRole ? settings.BlueRole : null;
        }
        var tagged = await store.ListTaggedForRotationAsync(ct);
        var random = tagged.Where(t => t.Name != settings.Secret && t.Tag(SecretTags.Rotation) == SecretTags.Random).Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        return new ManagedCredentials(store.Location, settings.Secret, current is not null, role, next, random);
    }
}

/// <summary>
/// Restores the clean backup over the (isolated) target through RestoreRunner: checksum proven on the way,
/// restored into a staging database, counts compared, given the target's current (isolated) CONNECT grants,
/// then renamed into place. The compromised database is not dropped but kept aside as evidence
/// (<see cref="CompromisedDatabase"/>); a drill's staging target is dropped as in any restore. Run again, it
/// restores the same backup again: the result is the same, and the database kept by the first run stays as it was.
/// </summary>
public sealed class RestoreCleanBackupActivity(
    RestoreRunner runner, BackupStores stores, BreachTargets targets, DatabaseIsolator isolator,
    WorkflowRuntime runtime, ILogger<RestoreCleanBackupActivity> logger)
    : RecoveryActivity<BreachRestoreInput, RestoreResult>(runtime, logger)
{
    protected override async Task<RestoreResult> ExecuteAsync(BreachRestoreInput input, TaskActivityContext context, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var target = await targets.ConnectionAsync(input.Incident.Drill, ct);
        var plan = await runner.PlanAsync(new RestoreRequest(input.Backup, target.Database, DropExisting: true), ct, target);
        var keep = input.Incident.Drill ? null : CompromisedDatabase.NameFor(plan.TargetDatabase, input.Incident);
        bool keptEarlier;
        await using (var admin = await DatabaseRestorer.OpenMaintenanceAsync(target, ct))
        {
            // Kept by an earlier attempt: what this attempt replaces is that attempt's restored copy.
            keptEarlier = keep is not null && await PgConnector.DatabaseExistsAsync(admin, keep, ct);
        }
        var result = await runner.ExecuteAsync(plan, new StoredBackup(stores.Primary, plan.Backup, Runtime.Progress), started, ct,
            (admin, restored, token) => isolator.CloseRestoredAsync(admin, restored, plan.TargetDatabase, token), target,
            keptEarlier ? null : keep);
        if (keep is null)
        {
            return result;
        }
        await using (var admin = await DatabaseRestorer.OpenMaintenanceAsync(target, ct))
        {
            if (!await PgConnector.DatabaseExistsAsync(admin, keep, ct))
            {
                // The target did not exist: nothing was replaced, nothing to keep.
                return result;
            }
            await CompromisedDatabase.LockDownAsync(admin, keep, ct);
        }
        return result with { KeptAside = keep };
    }
}

/// <summary>The restored database against the backup (IntegrityChecker), and proof the application still cannot reach it. Read-only.</summary>
public sealed class VerifyBreachRestoreActivity(
    BackupCatalog catalog, BreachTargets targets, IOptions<BreachOptions> breach, IOptions<RotationOptions> rotation,
    WorkflowRuntime runtime, ILogger<VerifyBreachRestoreActivity> logger)
    : RecoveryActivity<BreachRestoreInput, BreachVerification>(runtime, logger)
{
    protected override async Task<BreachVerification> ExecuteAsync(BreachRestoreInput input, TaskActivityContext context, CancellationToken ct)
    {
        var entry = await catalog.FindAsync(input.Backup, ct);
        var target = await targets.ConnectionAsync(input.Incident.Drill, ct);
        var problems = (await IntegrityChecker.CheckAsync(target, target.Database!, entry.Metadata, ct)).All;
        var still = new List<string>();
        if (breach.Value.Isolate)
        {
            await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(target, ct);
            foreach (var role in breach.Value.RolesToIsolate(rotation.Value))
            {
                if (await Rotation.LoginRoles.ExistsAsync(admin, role, ct) && (await Rotation.LoginRoles.AccessAsync(admin, role, target.Database!, ct)).CanConnect)
                {
                    still.Add(role);
                }
            }
        }
        return new BreachVerification(problems, still);
    }
}

/// <summary>Resume writes: CONNECT back exactly as it was before isolation. Null when the incident never isolated.</summary>
public sealed class ReleaseIsolationActivity(DatabaseIsolator isolator, WorkflowRuntime runtime, ILogger<ReleaseIsolationActivity> logger)
    : RecoveryActivity<Incident, IsolationRecord?>(runtime, logger)
{
    protected override Task<IsolationRecord?> ExecuteAsync(Incident input, TaskActivityContext context, CancellationToken ct) =>
        isolator.ReleaseAsync(input, ct);
}

public sealed class WritePostMortemActivity(PostMortemWriter writer, WorkflowRuntime runtime, ILogger<WritePostMortemActivity> logger)
    : RecoveryActivity<PostMortemInput, string>(runtime, logger)
{
    protected override Task<string> ExecuteAsync(PostMortemInput input, TaskActivityContext context, CancellationToken ct) =>
        writer.WriteAsync(input, ct);
}

/// <summary>Records who acknowledged the GDPR notification and when, beside the post-mortem (write-once).</summary>
public sealed class RecordGdprAcknowledgementActivity(IBackupStore store, WorkflowRuntime runtime, ILogger<RecordGdprAcknowledgementActivity> logger)
    : RecoveryActivity<GdprRecordInput, string>(runtime, logger)
{
    public static string NameFor(string incidentId) => $"incidents/{incidentId}/gdpr-notification.json";

    protected override async Task<string> ExecuteAsync(GdprRecordInput input, TaskActivityContext context, CancellationToken ct)
    {
        var name = ObjectName.Check(NameFor(input.Incident.Id));
        if (await store.GetAsync(name, ct) is null)
        {
            var record = new { incidentId = input.Incident.Id, drill = input.Incident.Drill, notifyBy = input.Incident.NotifyBy, input.Result };
            await store.WriteAllAsync(name, JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);
        }
        return name;
    }
}
