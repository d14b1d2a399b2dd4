using System.Diagnostics;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Secondary;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>Dumps the database of DATABASE_URL into the store (FullBackupRunner: store lock, streaming, metadata last).</summary>
public sealed class TakeFullBackupActivity(FullBackupRunner runner, WorkflowRuntime runtime, ILogger<TakeFullBackupActivity> logger)
    : RecoveryActivity<string, BackupTaken>(runtime, logger)
{
    protected override async Task<BackupTaken> ExecuteAsync(string trigger, TaskActivityContext context, CancellationToken ct)
    {
        var meta = (await runner.RunAsync(Runtime.Progress, ct)).Metadata;
        return new BackupTaken(meta.Name, meta.Database, meta.Sha256, meta.SizeBytes, meta.DumpBytes, meta.Facts.Tables.Count,
            meta.Facts.Tables.Sum(t => t.Rows), meta.DurationSeconds, meta.Timestamp, meta.Anomalies);
    }
}

/// <summary>
/// The incremental backup is the WAL archive proven continuous up to now (IncrementalBackupRunner). Not configured
/// or not available on this server is a result, not a failure; a gap or a stalled archive is a failure naming it.
/// </summary>
public sealed class TakeIncrementalBackupActivity(IncrementalBackupRunner runner, WorkflowRuntime runtime, ILogger<TakeIncrementalBackupActivity> logger)
    : RecoveryActivity<string, IncrementalBackupResult>(runtime, logger)
{
    protected override Task<IncrementalBackupResult> ExecuteAsync(string trigger, TaskActivityContext context, CancellationToken ct) => runner.RunAsync(ct);
}

/// <summary>
/// Copies the WAL archive, base backups and incremental records to every further copy that lacks them (WalCopier);
/// a copy refusing a file or unreachable is in its result, not an exception, so one copy does not hide the other.
/// </summary>
public sealed class CopyWalArchiveActivity(WalCopier copier, WorkflowRuntime runtime, ILogger<CopyWalArchiveActivity> logger)
    : RecoveryActivity<bool, IReadOnlyList<WalCopyResult>>(runtime, logger)
{
    protected override Task<IReadOnlyList<WalCopyResult>> ExecuteAsync(bool verify, TaskActivityContext context, CancellationToken ct) =>
        copier.CopyToEveryCopyAsync(verify, ct);
}

/// <summary>Reads a stored backup end to end and checks its SHA-256; a mismatch can be recorded so the catalog marks the backup invalid.</summary>
public sealed class CheckBackupChecksumActivity(BackupCatalog catalog, BackupStores stores, TimeProvider clock, WorkflowRuntime runtime, ILogger<CheckBackupChecksumActivity> logger)
    : RecoveryActivity<ChecksumInput, ChecksumCheck>(runtime, logger)
{
    protected override async Task<ChecksumCheck> ExecuteAsync(ChecksumInput input, TaskActivityContext context, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var from = stores.Catalog(input.From, catalog);
        var entry = await from.FindAsync(input.Backup, ct);
        var check = await ChecksumChecker.CheckAsync(from.Store, entry, ct);
        if (!check.Matched)
        {
            logger.ChecksumMismatch(check.Backup, check.Problem ?? "mismatch");
            if (input.RecordMismatch)
            {
                // Only failures are recorded here: a checksum alone does not prove a backup restorable.
                var record = new VerificationRecord(entry.Name, clock.GetUtcNow(), false, false, "checksum check", Math.Round(started.Elapsed.TotalSeconds, 3), [check.Problem ?? "checksum mismatch"]);
                await from.Store.WriteAllAsync(VerificationRecord.NameFor(entry.Name, record.Timestamp),
                    System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), new ObjectRetention(entry.Metadata.RetainUntil), ct);
            }
        }
        return check;
    }
}

/// <summary>Restores a backup into a scratch database and compares it with what the backup recorded (BackupVerifier).</summary>
public sealed class VerifyBackupActivity(BackupCatalog catalog, BackupVerifier verifier, WorkflowRuntime runtime, ILogger<VerifyBackupActivity> logger)
    : RecoveryActivity<string, VerificationSummary>(runtime, logger)
{
    protected override async Task<VerificationSummary> ExecuteAsync(string backup, TaskActivityContext context, CancellationToken ct)
    {
        var record = await verifier.VerifyAsync(await catalog.FindAsync(backup, ct), Runtime.Progress, ct);
        return new VerificationSummary(record.Backup, record.Passed, record.ChecksumMatched, record.Server, record.DurationSeconds, record.Problems);
    }
}

/// <summary>Makes one further copy (second or third) of a checked backup and proves its checksum; a bad copy fails the step.</summary>
public sealed class ReplicateBackupActivity(BackupCopier copier, WorkflowRuntime runtime, ILogger<ReplicateBackupActivity> logger)
    : RecoveryActivity<ReplicateInput, CopyResult?>(runtime, logger)
{
    /// <summary>Null when that copy is not configured (BACKUP_SECONDARY_STORE, BACKUP_TERTIARY_STORE).</summary>
    protected override async Task<CopyResult?> ExecuteAsync(ReplicateInput input, TaskActivityContext context, CancellationToken ct)
    {
        if (!copier.IsConfigured(input.To))
        {
            return null;
        }
        var which = BackupStores.Ordinal(input.To);
        CopyResult copy;
        try
        {
            copy = await copier.CopyAsync(input.Backup, input.To, ct);
        }
        catch (RecoveryException e)
        {
            throw new RecoveryException($"backup {input.Backup} is committed, but its {which} copy failed: {e.Message}", e);
        }
        return copy.Verified ? copy : throw new RecoveryException($"backup {input.Backup} is committed, but its {which} copy is not good: {copy.Problem}");
    }
}

/// <summary>The catalog, newest first, as small summaries.</summary>
public sealed class ListBackupsActivity(BackupCatalog catalog, WorkflowRuntime runtime, ILogger<ListBackupsActivity> logger)
    : RecoveryActivity<string?, IReadOnlyList<BackupSummary>>(runtime, logger)
{
    protected override async Task<IReadOnlyList<BackupSummary>> ExecuteAsync(string? database, TaskActivityContext context, CancellationToken ct) =>
        (await catalog.ListAsync(ct))
            .Where(e => database is null || e.Metadata.Database == database)
            .Select(BackupSummary.Of)
            .ToList();
}
