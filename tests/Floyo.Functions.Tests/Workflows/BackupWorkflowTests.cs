using System.Text.Json;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Functions.Tests.Workflows;

public sealed class BackupWorkflowTests
{
    private static readonly RetrySettings Fast = new(5, TimeSpan.FromSeconds(1), 1.0);

    [Fact]
    public async Task Full_backup_is_dumped_checked_verified_and_recorded()
    {
        await using var scenario = await Scenario.CreateAsync();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BackupOrchestrator),
            new BackupWorkflowInput(BackupType.Full, Verify: true, "test", Fast), new StartOrchestrationOptions("full-backup-happy"));
        var state = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var result = state.ReadOutputAs<BackupWorkflowResult>()!;
        Assert.Equal(WorkflowOutcome.Succeeded, result.Outcome);
        Assert.Null(result.Error);
        Assert.Equal(scenario.Database.Name, result.Backup!.Database);
        Assert.Equal(500, result.Backup.Rows);
        Assert.True(result.Checksum!.Matched);
        Assert.Equal(result.Backup.SizeBytes, result.Checksum.Bytes);
        Assert.True(result.Verification!.Passed);
        Assert.Null(result.Replication); // no second copy configured

        // The catalog now proves it, and the run is on record in the store.
        var entry = await host.Services.GetRequiredService<BackupCatalog>().FindAsync(result.Backup.Name, default);
        Assert.True(entry.Verified);
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scenario.BackupDir, RecordRunActivity.NameFor(BackupOrchestrator.RecordName, id))));
        Assert.Equal("succeeded", record.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(result.Backup.Sha256, record.RootElement.GetProperty("result").GetProperty("backup").GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Incremental_backup_without_wal_archiving_is_recorded_as_not_configured_and_does_not_fail()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BackupOrchestrator),
            new BackupWorkflowInput(BackupType.Incremental, Verify: true, "test", Fast), new StartOrchestrationOptions("incremental-backup-test"));
        var state = await host.WaitAsync(id);

        // The test servers run with archive_mode off and the store has no base backup: said, not failed, every 6 hours.
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var result = state.ReadOutputAs<BackupWorkflowResult>()!;
        Assert.Equal(WorkflowOutcome.NotAvailable, result.Outcome);
        Assert.Null(result.Error);
        Assert.Equal(Recovery.Wal.IncrementalOutcome.NotConfigured, result.Incremental!.Outcome);
        Assert.StartsWith("not configured: WAL archiving is not set up", result.Incremental.Detail, StringComparison.Ordinal);
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scenario.BackupDir, RecordRunActivity.NameFor(BackupOrchestrator.RecordName, id))));
        Assert.NotEqual("failed", record.RootElement.GetProperty("outcome").GetString());
        Assert.StartsWith("not configured", record.RootElement.GetProperty("result").GetProperty("incremental").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await host.Services.GetRequiredService<BackupCatalog>().ListAsync(default));
    }

    [Fact]
    public async Task A_transient_failure_is_retried_with_backoff_and_the_backup_succeeds()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 50);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        // The database refuses every connection, as it does while a restore swaps it in: a condition that passes.
        await using (var admin = await Recovery.Postgres.PgConnector.OpenAsync(Recovery.Postgres.DatabaseUrl.WithDatabase(scenario.Database.Server, "postgres"), default))
        {
            await Recovery.Postgres.PgConnector.ExecuteAsync(admin, $"ALTER DATABASE {scenario.Database.Name} ALLOW_CONNECTIONS false", default);
        }

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BackupOrchestrator),
            new BackupWorkflowInput(BackupType.Full, Verify: false, "test", new RetrySettings(5, TimeSpan.FromSeconds(2), 1.5)),
            new StartOrchestrationOptions("full-backup-transient"));
        var failure = await host.Logs.WaitForAsync(5003, TimeSpan.FromSeconds(60));
        Assert.Contains("not currently accepting connections", failure.Message, StringComparison.Ordinal);
        await using (var admin = await Recovery.Postgres.PgConnector.OpenAsync(Recovery.Postgres.DatabaseUrl.WithDatabase(scenario.Database.Server, "postgres"), default))
        {
            await Recovery.Postgres.PgConnector.ExecuteAsync(admin, $"ALTER DATABASE {scenario.Database.Name} ALLOW_CONNECTIONS true", default);
        }
        var state = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var result = state.ReadOutputAs<BackupWorkflowResult>()!;
        Assert.Equal(WorkflowOutcome.Succeeded, result.Outcome);
        Assert.Equal(50, result.Backup!.Rows);
        Assert.Contains(host.Logs.Entries, e => e.EventId == 5003 && e.Message.Contains(nameof(TakeFullBackupActivity), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_permanent_failure_is_not_retried()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        var settings = scenario.Settings(("PG_BIN_DIR", Path.Combine(scenario.Folder.Path, "no-such-bin")));
        await using var host = await WorkflowHost.StartAsync(settings);

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BackupOrchestrator),
            new BackupWorkflowInput(BackupType.Full, Verify: false, "test", Fast), new StartOrchestrationOptions("full-backup-permanent"));
        var state = await host.WaitAsync(id, TimeSpan.FromSeconds(30));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.StartsWith("pg_dump not found in PG_BIN_DIR", state.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == 5003);
    }
}
