using System.Text.Json;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Functions.Tests.Workflows;

public sealed class RestoreWorkflowTests
{
    private static readonly RetrySettings Fast = new(3, TimeSpan.FromSeconds(1), 1.0);

    private static RestoreWorkflowInput Request(string backup, string? target, TimeSpan? timeout = null, RestoreSource source = RestoreSource.Cli) =>
        new(backup, target, DropExisting: true, "test restore", "alice", source, timeout ?? TimeSpan.FromMinutes(2), Fast);

    private static async Task<string> BackupAsync(WorkflowHost host) =>
        (await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;

    [Fact]
    public async Task Restore_replaces_the_database_checks_it_and_gives_writes_back()
    {
        await using var scenario = await Scenario.CreateAsync(pagila: true);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = await BackupAsync(host);
        var before = await scenario.Database.FactsAsync();
        await scenario.Database.ExecuteAsync("DELETE FROM items WHERE id > 100; DELETE FROM payment WHERE payment_id % 2 = 0");

        // The database of DATABASE_URL: a second person approves, whatever the input says.
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), Request(backup, null),
            new StartOrchestrationOptions("restore-happy"));
        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        await host.Client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new Approval("bob"));
        var state = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var report = state.ReadOutputAs<RestoreReport>()!;
        Assert.Equal(RestoreOutcome.Restored, report.Outcome);
        Assert.Equal(scenario.Database.Name, report.TargetDatabase);
        Assert.True(report.ReplacedExisting);
        Assert.Equal("bob", report.ApprovedBy);
        Assert.False(report.WritesStopped);
        Assert.True(report.WritesResumed);
        Assert.True(report.DurationSeconds > 0 && report.RestoreSeconds > 0 && report.RestoreSeconds <= report.DurationSeconds);
        Assert.NotNull(report.ApprovalWaitSeconds);
        Assert.Empty(Recovery.Verification.FactsComparison.Compare(before, await scenario.Database.FactsAsync()));
        Assert.Equal(500, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());
        await using (var session = await scenario.OpenAppSessionAsync())
        await using (var insert = new NpgsqlCommand("INSERT INTO items (name) VALUES ('after restore')", session))
        {
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scenario.BackupDir, RecordRunActivity.NameFor(RestoreOrchestrator.RecordName, id))));
        Assert.Equal("restored", record.RootElement.GetProperty("result").GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Approval_is_given_by_someone_other_than_the_requester()
    {
        await using var scenario = await Scenario.CreateAsync();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = await BackupAsync(host);
        await scenario.Database.ExecuteAsync("DELETE FROM items");

        // A restore into the production database needs approval: the plan activity says so, not the input.
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator),
            Request(backup, scenario.Database.Name, source: RestoreSource.Http), new StartOrchestrationOptions("restore-approved"));
        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        Assert.Equal(0, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());

        await host.Client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new Approval(" ALICE "));
        await host.Logs.WaitForAsync(5011, TimeSpan.FromSeconds(30));
        var waiting = await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, await scenario.CountItemsAsync());

        await host.Client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new Approval("bob", "checked the incident"));
        var state = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var report = state.ReadOutputAs<RestoreReport>()!;
        Assert.Equal(RestoreOutcome.Restored, report.Outcome);
        Assert.Equal("bob", report.ApprovedBy);
        Assert.Contains(report.Problems, p => p.Contains("cannot approve their own restore", StringComparison.Ordinal));
        Assert.NotNull(report.ApprovalWaitSeconds);
        Assert.Equal(500, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());
    }

    [Fact]
    public async Task An_input_claiming_a_cli_source_without_approval_cannot_skip_the_approval_of_a_production_restore()
    {
        await using var scenario = await Scenario.CreateAsync();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = await BackupAsync(host);
        await scenario.Database.ExecuteAsync("DELETE FROM items");

        // What anyone able to start an orchestration could write (the fields of the input as it used to be):
        // "I am the command line, and no approval is needed".
        var forged = new
        {
            Backup = backup,
            TargetDatabase = (string?)null,
            DropExisting = true,
            Reason = "forged",
            RequestedBy = "mallory",
            Source = "Cli",
            ApprovalRequired = false,
            ApprovalTimeout = TimeSpan.FromMinutes(2),
        };
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), forged, new StartOrchestrationOptions("restore-forged"));
        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);

        // Outside floyo-dr's own process the requester is never their own approver.
        await host.Client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new Approval("mallory"));
        await host.Logs.WaitForAsync(5011, TimeSpan.FromSeconds(30));
        var waiting = await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());
        await host.Client.TerminateInstanceAsync(id, "test over");
    }

    [Fact]
    public async Task Approval_timeout_touches_nothing()
    {
        await using var scenario = await Scenario.CreateAsync();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = await BackupAsync(host);
        await scenario.Database.ExecuteAsync("DELETE FROM items WHERE id > 10");
        await using var session = await scenario.OpenAppSessionAsync();

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator),
            Request(backup, null, timeout: TimeSpan.FromSeconds(3)), new StartOrchestrationOptions("restore-timeout"));
        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        var state = await host.WaitAsync(id, TimeSpan.FromSeconds(60));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var report = state.ReadOutputAs<RestoreReport>()!;
        Assert.Equal(RestoreOutcome.ApprovalTimedOut, report.Outcome);
        Assert.Contains("nothing was touched", report.Error, StringComparison.Ordinal);
        Assert.False(report.WritesStopped);
        Assert.Null(report.ApprovedBy);
        Assert.Equal(10, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());
        Assert.False(File.Exists(Path.Combine(scenario.BackupDir, StopWritesActivity.RecordNameFor(id))));
        // The application's session was never ended.
        await using var query = new NpgsqlCommand("SELECT count(*) FROM items", session);
        Assert.Equal(10L, await query.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_restore_failing_after_writes_were_stopped_leaves_them_stopped_and_says_so()
    {
        await using var scenario = await Scenario.CreateAsync();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = await BackupAsync(host);
        await scenario.Database.ExecuteAsync("DELETE FROM items WHERE id > 20");
        await using var session = await scenario.OpenAppSessionAsync();

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator),
            Request(backup, null), new StartOrchestrationOptions("restore-fails-late"));
        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        // While it waits, the stored backup rots: same size, different bytes. The checksum was fine when checked.
        var path = Path.Combine(scenario.BackupDir, backup);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
        await host.Client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new Approval("bob"));
        var state = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        var message = state.FailureDetails!.ErrorMessage;
        Assert.StartsWith($"RESTORE FAILED AFTER WRITES TO '{scenario.Database.Name}' WERE STOPPED: checksum mismatch", message, StringComparison.Ordinal);
        Assert.Contains("GRANT CONNECT ON DATABASE", message, StringComparison.Ordinal);
        Assert.Contains(RestoreStages.FailedWritesStopped, state.SerializedCustomStatus, StringComparison.Ordinal);
        Assert.Contains(host.Logs.Entries, e => e.EventId == 5016 && e.Level == Microsoft.Extensions.Logging.LogLevel.Critical);

        // Writes stay stopped: the role may not connect and its session was ended; the data is as it was.
        Assert.False(await scenario.AppCanConnectAsync());
        await using (var query = new NpgsqlCommand("SELECT 1", session))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => query.ExecuteScalarAsync());
        }
        Assert.Equal(20, await scenario.CountItemsAsync());
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scenario.BackupDir, RecordRunActivity.NameFor(RestoreOrchestrator.RecordName, id)))).RootElement.GetProperty("result");
        Assert.Equal("failedWritesStopped", record.GetProperty("outcome").GetString());
        Assert.True(record.GetProperty("writesStopped").GetBoolean());
        Assert.True(File.Exists(Path.Combine(scenario.BackupDir, StopWritesActivity.RecordNameFor(id))));
        // Someone is paged: with no channel configured, the alert is in the log at Critical and recorded in the store.
        var alert = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scenario.BackupDir, "notifications", $"{id}-failed-writes-stopped.json"))).RootElement.GetProperty("notification");
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.Contains("GRANT CONNECT ON DATABASE", alert.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains(host.Logs.Entries, e => e.EventId == 6300 && e.Level == Microsoft.Extensions.Logging.LogLevel.Critical);

        // The statement in the message reopens the database.
        var resume = message[(message.IndexOf("GRANT CONNECT", StringComparison.Ordinal))..];
        await scenario.Database.ExecuteAsync(resume);
        Assert.True(await scenario.AppCanConnectAsync());
    }

    [Fact]
    public async Task A_refused_request_fails_before_anything_is_touched()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 5);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = await BackupAsync(host);

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator),
            Request(backup, null) with { DropExisting = false }, new StartOrchestrationOptions("restore-refused"));
        var state = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.StartsWith($"database '{scenario.Database.Name}' at ", state.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("is not empty: pass --drop-existing", state.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.True(await scenario.AppCanConnectAsync());
    }
}
