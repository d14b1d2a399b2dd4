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
        try
        {
            await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
            var scratch = RestoreRunner.StagingName("floyo_verify", "scratch");
            try
            {
                problems.AddRange(await restorer.RestoreNewAsync(admin, server, scratch, new StoredBackup(catalog.Store, entry, progress), ct));
            }
            finally
            {
                await DatabaseRestorer.DropDatabaseAsync(admin, scratch, CancellationToken.None);
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
            $"{server.Host}:{server.Port}", Math.Round(started.Elapsed.TotalSeconds, 3), problems);
        await catalog.Store.WriteAllAsync(VerificationRecord.NameFor(entry.Name, record.Timestamp),
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), new ObjectRetention(entry.Metadata.RetainUntil), ct);
        LogVerified(logger, entry.Name, record.Passed, problems.Count);
        return record;
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Verified {Backup}: passed={Passed}, {Problems} problems")]
    private static partial void LogVerified(ILogger logger, string backup, bool passed, int problems);
}
