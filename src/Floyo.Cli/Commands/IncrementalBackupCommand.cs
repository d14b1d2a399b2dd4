using Floyo.Cli.Workflows;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;

namespace Floyo.Cli.Commands;

/// <summary><c>floyo-dr backup --incremental</c>: the orchestration the 6-hourly timer runs, one attempt.</summary>
internal static class IncrementalBackupCommand
{
    public static Task<int> RunAsync(bool json, CancellationToken ct) => CliHost.RunAsync(async (services, token) =>
    {
        var input = new BackupWorkflowInput(BackupType.Incremental, Verify: false, "floyo-dr backup", RetrySettings.Once);
        var run = await EmbeddedWorkflows.RunAsync<BackupWorkflowInput, BackupWorkflowResult>(
            services, nameof(BackupOrchestrator), input, EmbeddedWorkflows.NewInstanceId("backup"), token);
        var result = run.Incremental!;
        if (json)
        {
            Output.Json(result);
        }
        else if (result.Record is { } record)
        {
            Console.WriteLine($"incremental {record.Name}: WAL {record.StartLsn} - {record.StopLsn} on timeline {record.Timeline} ({record.FirstSegment} to {record.LastSegment})");
            Console.WriteLine($"continuous from base backup {record.BaseBackup}; recoverable {PitrPlanner.Show(record.StartTime)} to {PitrPlanner.Show(record.StopTime)}");
        }
        else
        {
            Console.WriteLine($"incremental: {result.Detail}");
        }
        WalCommand.ReportCopies(run.WalCopies ?? [], toStdout: !json, "the incremental backup");
        return 0;
    }, ct, workflows: true);
}
