using System.CommandLine;
using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage.Secondary;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class BackupCommand
{
    public static Command Create()
    {
        var full = new Option<bool>("--full") { Description = "Take a full backup (pg_dump custom format, zstd, SHA-256)" };
        var incremental = new Option<bool>("--incremental") { Description = "Take an incremental backup (needs WAL archiving)" };
        var verify = new Option<bool>("--verify") { Description = "Prove the new backup by restoring it into a scratch database" };
        var json = new Option<bool>("--json") { Description = "Print the backup's metadata as JSON" };
        var command = new Command("backup", "Back up the database of DATABASE_URL into the backup store") { full, incremental, verify, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            if (result.GetValue(incremental))
            {
                return CliHost.Fail("incremental backups need WAL archiving, which is not enabled in this version; take a full backup with --full");
            }
            if (!result.GetValue(full))
            {
                return CliHost.Fail("say which backup to take: --full");
            }
            var backup = await services.GetRequiredService<FullBackupRunner>().RunAsync(Output.Progress(), token);
            Output.EndProgress();
            var meta = backup.Metadata;
            VerificationRecord? verification = null;
            if (result.GetValue(verify))
            {
                var catalog = services.GetRequiredService<BackupCatalog>();
                verification = await services.GetRequiredService<BackupVerifier>().VerifyAsync(await catalog.FindAsync(meta.Name, token), Output.Progress(), token);
                Output.EndProgress();
            }
            // The second copy is taken once the backup is committed (and proven, when asked).
            var copier = services.GetRequiredService<SecondaryCopier>();
            CopyResult? copy = null;
            if (copier.IsConfigured)
            {
                try
                {
                    copy = await copier.CopyAsync(meta.Name, token);
                }
                catch (RecoveryException e)
                {
                    return CliHost.Fail($"backup {meta.Name} is committed, but its second copy failed: {e.Message}");
                }
            }
            if (result.GetValue(json))
            {
                Output.Json(new { backup = ListCommand.Row(meta, verification?.Passed ?? false), verification, secondary = copy });
            }
            else
            {
                Console.WriteLine($"backup {meta.Name}: {Output.Size(meta.SizeBytes)} ({Output.Size(meta.DumpBytes)} dumped, {meta.Facts.Tables.Count} tables, {meta.Facts.Tables.Sum(t => t.Rows)} rows) in {meta.DurationSeconds:F1} s");
                Console.WriteLine($"sha256 {meta.Sha256}");
                if (verification is not null)
                {
                    Console.WriteLine(verification.Passed ? $"verified: restored and matched in {verification.DurationSeconds:F1} s" : $"verification FAILED: {string.Join("; ", verification.Problems)}");
                }
                if (copy is { Verified: true })
                {
                    Console.WriteLine($"second copy verified in {copy.Target} ({(copy.Copied ? "copied" : "already there")}, checksum matches)");
                }
            }
            if (copy is { Verified: false })
            {
                return CliHost.Fail($"backup {meta.Name} is committed, but its second copy is not good: {copy.Problem}");
            }
            return verification is { Passed: false } ? 1 : 0;
        }, ct));
        return command;
    }
}
