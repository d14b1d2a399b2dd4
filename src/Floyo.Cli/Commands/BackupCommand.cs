using System.CommandLine;
using Floyo.Cli.Workflows;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class BackupCommand
{
    public static Command Create()
    {
        var full = new Option<bool>("--full") { Description = "Take a full backup (pg_dump custom format, zstd, SHA-256)" };
        var baseBackup = new Option<bool>("--base") { Description = "Take a base backup for point-in-time recovery (pg_basebackup tar, zstd, SHA-256; needs WAL archiving)" };
        var incremental = new Option<bool>("--incremental") { Description = "Prove the WAL archive continuous from the newest base backup to now and record it (needs WAL archiving)" };
        var verify = new Option<bool>("--verify") { Description = "Prove the new backup by restoring it into a scratch database" };
        var json = new Option<bool>("--json") { Description = "Print the backup's metadata as JSON" };
        var command = new Command("backup", "Back up the database of DATABASE_URL into the backup store") { full, baseBackup, incremental, verify, json };
        command.SetAction((result, ct) =>
        {
            // Refused before any engine starts: these need no server and no store.
            if (result.GetValue(incremental))
            {
                return result.GetValue(full) || result.GetValue(baseBackup) || result.GetValue(verify)
                    ? Task.FromResult(CliHost.Fail("--incremental is a backup of its own: give it without --full, --base or --verify"))
                    : IncrementalBackupCommand.RunAsync(result.GetValue(json), ct);
            }
            if (result.GetValue(baseBackup))
            {
                return result.GetValue(full) || result.GetValue(verify)
                    ? Task.FromResult(CliHost.Fail("--base is a backup of its own: give it without --full or --verify"))
                    : BaseBackupCommand.RunAsync(result.GetValue(json), ct);
            }
            if (!result.GetValue(full))
            {
                return Task.FromResult(CliHost.Fail("say which backup to take: --full or --base"));
            }
            return CliHost.RunAsync(async (services, token) =>
            {
                // The same orchestration the daily timer runs, one attempt: at a terminal the operator decides on retries.
                services.GetRequiredService<WorkflowRuntime>().Progress = Output.Progress();
                var input = new BackupWorkflowInput(BackupType.Full, result.GetValue(verify), "floyo-dr backup", RetrySettings.Once);
                var run = await EmbeddedWorkflows.RunAsync<BackupWorkflowInput, BackupWorkflowResult>(
                    services, nameof(BackupOrchestrator), input, EmbeddedWorkflows.NewInstanceId("backup"), token);
                Output.EndProgress();
                var verificationFailed = run.Verification is { Passed: false };
                if (run.Error is not null && !verificationFailed)
                {
                    return CliHost.Fail(run.Error);
                }
                var entry = await services.GetRequiredService<BackupCatalog>().FindAsync(run.Backup!.Name, token);
                var meta = entry.Metadata;
                VerificationRecord? verification = run.Verification is null ? null : entry.LastVerification;
                if (result.GetValue(json))
                {
                    var tertiary = run.Copies?.FirstOrDefault(c => c.Copy == BackupSource.Tertiary);
                    Output.Json(new { backup = BackupSummary.Of(entry), verification, secondary = run.Replication, tertiary });
                }
                else
                {
                    Console.WriteLine($"backup {meta.Name}: {Output.Size(meta.SizeBytes)} ({Output.Size(meta.DumpBytes)} dumped, {meta.Facts.Tables.Count} tables, {meta.Facts.Tables.Sum(t => t.Rows)} rows) in {meta.DurationSeconds:F1} s");
                    Console.WriteLine($"sha256 {meta.Sha256}");
                    if (verification is not null)
                    {
                        Console.WriteLine(verification.Passed ? $"verified: restored and matched in {verification.DurationSeconds:F1} s" : $"verification FAILED: {string.Join("; ", verification.Problems)}");
                    }
                    foreach (var copy in run.Copies ?? [])
                    {
                        Console.WriteLine($"{BackupStores.Ordinal(copy.Copy)} copy verified in {copy.Target} ({(copy.Copied ? "copied" : "already there")}, checksum matches)");
                    }
                }
                return verificationFailed ? 1 : 0;
            }, ct, workflows: true);
        });
        return command;
    }
}
