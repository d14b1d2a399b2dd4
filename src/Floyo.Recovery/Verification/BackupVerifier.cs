using System.Diagnostics;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Verification;

/// <summary>
/// Proves a backup restorable: checksum, a real restore into a scratch database (on the verification
/// server when one is configured), and exact row and object counts against what the backup recorded.
/// The scratch database is always dropped; the outcome is stored as a separate record.
/// </summary>
public sealed partial class BackupVerifier(
    BackupCatalog catalog,
    DatabaseRestorer restorer,
    DatabaseConnections connections,
    TimeProvider clock,
    ILogger<BackupVerifier> logger)
{
    public async Task<VerificationRecord> VerifyAsync(BackupEntry entry, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var server = await connections.VerificationServerAsync(ct);
        var problems = new List<string>();
        var checksumOk = true;
        var created = ProvisionedRoles.None;
        var released = new ReleasedRoles([], []);
        try
        {
            // Proven before the server is touched, roles included.
            await ChecksumChecker.ProveAsync(catalog.Store, entry, ct);
            await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
            var scratch = RestoreRunner.StagingName("floyo_verify", "scratch");
            await RestorePreflight.CheckAsync(admin, catalog.Store, entry, scratch, targetExists: false, ct);
            try
            {
                // The verification server is often production's: roles that exist are left exactly as they are,
                // and the ones created for the scratch copy go with it.
                created = await RoleProvisioner.EnsureAsync(admin, entry.Metadata.Facts.Roles, ct);
                problems.AddRange(await restorer.RestoreNewAsync(admin, server, scratch, new StoredBackup(catalog.Store, entry, progress, ChecksumProven: true), ct, closed: true));
            }
            finally
            {
                await DatabaseRestorer.DropDatabaseAsync(admin, scratch, CancellationToken.None);
                released = await RoleProvisioner.DropAsync(admin, created.Roles, CancellationToken.None);
                foreach (var kept in released.Kept)
                {
                    LogRoleKept(logger, entry.Name, kept);
                }
            }
        }
        // A server we cannot reach says nothing about the backup: that propagates. Everything else is a finding.
        catch (ChecksumMismatchException e)
        {
            checksumOk = false;
            problems.Add(e.Message);
        }
        // An admin lacking a right is a setup problem, not a finding about the backup: that propagates too.
        catch (RecoveryException e) when (e.InnerException is not Npgsql.NpgsqlException && e is not AdminCapabilityException)
        {
            problems.Add(e.Message);
        }
        var record = new VerificationRecord(entry.Name, clock.GetUtcNow(), problems.Count == 0, checksumOk,
            $"{server.Host}:{server.Port}", Math.Round(started.Elapsed.TotalSeconds, 3), problems, created.Roles, released.Dropped);
        await catalog.Store.WriteAllAsync(VerificationRecord.NameFor(entry.Name, record.Timestamp),
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), new ObjectRetention(entry.Metadata.RetainUntil), ct);
        LogVerified(logger, entry.Name, record.Passed, problems.Count);
        return record;
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Verified {Backup}: passed={Passed}, {Problems} problems")]
    private static partial void LogVerified(ILogger logger, string backup, bool passed, int problems);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Verifying {Backup} created a role it could not drop again: {Role}")]
    private static partial void LogRoleKept(ILogger logger, string backup, string role);
}
