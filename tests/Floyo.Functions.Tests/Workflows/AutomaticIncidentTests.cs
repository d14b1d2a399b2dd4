using System.Text.Json;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Functions.Tests.Workflows;

/// <summary>
/// Incidents the workflows open by themselves, on the Functions tests' Durable host (the app's engine, where an
/// incident's communication workflow keeps running): a failed restore, a failed drill. Slack is a real HTTP
/// listener on loopback; the restore runs against the real PostgreSQL cluster.
/// </summary>
public sealed class AutomaticIncidentTests
{
    private const string SlackPath = "services/T1/B2/auto-incidents";

    private static readonly RetrySettings Fast = new(3, TimeSpan.FromSeconds(1), 1.0);

    private static RestoreWorkflowInput Request(string backup) =>
        new(backup, null, DropExisting: true, "test restore", "alice", RestoreSource.Http, TimeSpan.FromMinutes(2), Fast);

    private static async Task<string> DamagedBackupAsync(WorkflowHost host, Scenario scenario)
    {
        var backup = (await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
        var path = Path.Combine(scenario.BackupDir, backup);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
        return backup;
    }

    private static async Task<OrchestrationMetadata> WaitForWaitingAsync(WorkflowHost host, string instance)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var state = await host.Client.GetInstanceAsync(instance, getInputsAndOutputs: true);
            if (state?.SerializedCustomStatus is { } s && JsonSerializer.Deserialize<IncidentCommunicationStatus>(s)?.Phase == IncidentCommunicationOrchestrator.Waiting)
            {
                return state;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{instance} never waited; last {state?.RuntimeStatus} {state?.SerializedCustomStatus}");
            await Task.Delay(100);
        }
    }

    private static async Task<bool> WaitForChangeToldAsync(IncidentBook book, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if ((await book.RequireAsync(id, default)).WasSent(CommunicationPlan.Change(1)))
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }

    private static IEnumerable<string> Texts(WebhookRecorder hooks) => hooks.To(SlackPath).Select(p => p.Json.GetProperty("text").GetString()!);

    [Fact]
    public async Task A_failed_restore_opens_one_incident_whose_plan_outlives_it_and_a_second_failure_updates_it()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 20);
        await using var hooks = new WebhookRecorder();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings(("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath))));
        var book = host.Services.GetRequiredService<IncidentBook>();
        var backup = await DamagedBackupAsync(host, scenario);
        var expected = IncidentBook.CauseId(IncidentCause.RestoreFailed, "DATABASE_URL");

        var first = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), Request(backup), new StartOrchestrationOptions("restore-damaged-1"));
        var failed = await host.WaitAsync(first);

        // The restore reports its own error, as before.
        Assert.Equal(OrchestrationRuntimeStatus.Failed, failed.RuntimeStatus);
        Assert.Contains("checksum mismatch", failed.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.Integrity, ErrorKinds.Of(failed.FailureDetails));

        // One incident, under the cause's id, told to Slack, its communication workflow still running after the restore ended.
        var comms = IncidentCommunicationOrchestrator.InstanceIdFor(expected);
        var running = await WaitForWaitingAsync(host, comms);
        Assert.Equal(OrchestrationRuntimeStatus.Running, running.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, (await host.Client.GetInstanceAsync(first))!.RuntimeStatus);
        var incident = Assert.Single(await book.ListAsync(default));
        Assert.Equal(expected, incident.Id);
        Assert.Equal(IncidentStatus.Open, incident.Status);
        Assert.Equal(Recovery.Notifications.NotificationSeverity.Critical, incident.Severity);
        Assert.Equal(["restore-damaged-1"], incident.Occurrences);
        Assert.Equal($"Restore into '{scenario.Database.Name}' failed", incident.Title);
        Assert.Contains("checksum mismatch", incident.Summary, StringComparison.Ordinal);
        Assert.Contains(backup, incident.Summary, StringComparison.Ordinal);
        Assert.Contains(CommunicationPlan.Opened, incident.Sent);
        Assert.Single(Texts(hooks), t => t.Contains($"Incident opened: Restore into '{scenario.Database.Name}' failed", StringComparison.Ordinal));

        // The same cause failing again (another request, another instance; this time at planning, the backup now
        // known bad): the same incident, told as a change, nothing opened twice.
        var second = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), Request(backup), new StartOrchestrationOptions("restore-damaged-2"));
        Assert.Equal(OrchestrationRuntimeStatus.Failed, (await host.WaitAsync(second)).RuntimeStatus);
        incident = Assert.Single(await book.ListAsync(default));
        Assert.True(incident.Changes.Count == 1, string.Join("\n", host.Logs.Entries.Where(e => e.EventId is 5004 or 8853 or 8851).Select(e => e.Message)));
        var told = await WaitForChangeToldAsync(book, expected);
        Assert.True(told, $"change-1 not sent: {string.Join(", ", (await book.RequireAsync(expected, default)).Sent)}; {(await host.Client.GetInstanceAsync(comms))?.SerializedCustomStatus}; " +
            string.Join("\n", host.Logs.Entries.Where(e => e.EventId is 5004 or 8853 or 8851 or 5003).Select(e => e.Message)));
        await hooks.WaitForAsync(SlackPath, p => p.Body.Contains("failed again (restore-damaged-2)", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30));
        Assert.Equal(["restore-damaged-1", "restore-damaged-2"], incident.Occurrences);
        Assert.Single(incident.Changes);
        Assert.Single(Texts(hooks), t => t.Contains("Incident opened", StringComparison.Ordinal));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync(comms))!.RuntimeStatus);

        // Nothing in the incident, its notifications or the posts holds the database URL or its password.
        var everything = string.Join("\n", hooks.Posts.Select(p => p.Body))
            + string.Join("\n", Directory.EnumerateFiles(Path.Combine(scenario.BackupDir, "incidents"), "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.DoesNotContain(scenario.Database.Url, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(scenario.Database.Server.Password!, everything, StringComparison.Ordinal);

        // Resolved by a person: the workflow ends. The next failure of the same cause is a new incident, numbered.
        var (_, resolution) = await book.ChangeAsync(expected, "bob", null, "backup replaced", null, resolves: true, default);
        await host.Client.RaiseEventAsync(comms, IncidentCommunicationOrchestrator.ChangedEvent, resolution);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.WaitAsync(comms, TimeSpan.FromSeconds(60))).RuntimeStatus);
        var third = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), Request(backup), new StartOrchestrationOptions("restore-damaged-3"));
        Assert.Equal(OrchestrationRuntimeStatus.Failed, (await host.WaitAsync(third)).RuntimeStatus);
        await WaitForWaitingAsync(host, IncidentCommunicationOrchestrator.InstanceIdFor($"{expected}-2"));
        Assert.Equal([expected, $"{expected}-2"], (await book.ListAsync(default)).Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_dead_channel_or_an_incident_that_cannot_be_opened_leaves_the_restore_error_as_it_was()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 20);
        var dead = $"http://127.0.0.1:{WorkflowHost.FreePort()}/dead-hook";
        await using (var host = await WorkflowHost.StartAsync(scenario.Settings(("NOTIFY_SLACK_WEBHOOK_URL", dead), ("NOTIFY_TIMEOUT_SECONDS", "3"))))
        {
            var backup = await DamagedBackupAsync(host, scenario);
            var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), Request(backup), new StartOrchestrationOptions("restore-dead-channel"));
            var failed = await host.WaitAsync(id);
            Assert.Equal(OrchestrationRuntimeStatus.Failed, failed.RuntimeStatus);
            Assert.Contains("checksum mismatch", failed.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
            // The incident is open and its plan ran: the opening is recorded with Slack failing, not lost.
            var incidentId = IncidentBook.CauseId(IncidentCause.RestoreFailed, "DATABASE_URL");
            await WaitForWaitingAsync(host, IncidentCommunicationOrchestrator.InstanceIdFor(incidentId));
            var incident = await host.Services.GetRequiredService<IncidentBook>().RequireAsync(incidentId, default);
            Assert.Contains(incident.Timeline, e => e.Step == CommunicationPlan.Opened && e.Detail.Contains("slack FAILED", StringComparison.Ordinal));
            Assert.DoesNotContain("dead-hook", JsonSerializer.Serialize(incident), StringComparison.Ordinal);
        }

        // The store refuses the incident: the restore fails with its own error all the same, and says nothing of incidents.
        Directory.Delete(Path.Combine(scenario.BackupDir, "incidents"), recursive: true);
        await using (var host = await WorkflowHost.StartAsync(scenario.Settings(), services =>
            services.AddSingleton(sp => new IncidentBook(new IncidentsRefused(sp.GetRequiredService<IBackupStore>()), TimeProvider.System))))
        {
            var backup = (await host.Services.GetRequiredService<BackupCatalog>().ListAsync(default)).First().Name;
            var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), Request(backup), new StartOrchestrationOptions("restore-no-incident"));
            var failed = await host.WaitAsync(id);
            Assert.Equal(OrchestrationRuntimeStatus.Failed, failed.RuntimeStatus);
            Assert.Contains("checksum mismatch", failed.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
            Assert.DoesNotContain("incident", failed.FailureDetails.ErrorMessage, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(ErrorKind.Integrity, ErrorKinds.Of(failed.FailureDetails));
            Assert.Contains(host.Logs.Entries, e => e.EventId == 8853);
            Assert.False(Directory.Exists(Path.Combine(scenario.BackupDir, "incidents")));
        }
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public async Task A_failed_drill_of_the_app_opens_one_incident_unless_INCIDENT_ON_DRILL_FAILURE_is_false()
    {
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        var settings = new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path, ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(SlackPath) };
        // No backup at all: the restore-test drill fails at its first step.
        var drill = new DrillInput("restore-test", null, "test timer", Fast);
        await using (var host = await WorkflowHost.StartAsync(new Dictionary<string, string?>(settings) { ["INCIDENT_ON_DRILL_FAILURE"] = "false" }))
        {
            var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DrillOrchestrator), drill, new StartOrchestrationOptions("drill-not-production"));
            Assert.Equal(Recovery.Drills.DrillStatus.Failed, (await host.WaitAsync(id)).ReadOutputAs<Recovery.Drills.DrillReport>()!.Status);
            Assert.Empty(await host.Services.GetRequiredService<IncidentBook>().ListAsync(default));
            Assert.Contains(host.Logs.Entries, e => e.EventId == 8852 && e.Message.Contains("INCIDENT_ON_DRILL_FAILURE=false", StringComparison.Ordinal));
        }

        // Unset: the Functions app's drills are production's.
        await using (var host = await WorkflowHost.StartAsync(settings))
        {
            var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DrillOrchestrator), drill, new StartOrchestrationOptions("drill-production"));
            var report = (await host.WaitAsync(id)).ReadOutputAs<Recovery.Drills.DrillReport>()!;
            Assert.Equal(Recovery.Drills.DrillStatus.Failed, report.Status);
            var expected = IncidentBook.CauseId(IncidentCause.DrillFailed, "restore-test");
            await WaitForWaitingAsync(host, IncidentCommunicationOrchestrator.InstanceIdFor(expected));
            var incident = Assert.Single(await host.Services.GetRequiredService<IncidentBook>().ListAsync(default));
            Assert.Equal(expected, incident.Id);
            Assert.Contains("no good backup", incident.Summary, StringComparison.Ordinal);
            Assert.Contains(report.MarkdownName, incident.Summary, StringComparison.Ordinal);
            await hooks.WaitForAsync(SlackPath, p => p.Body.Contains("Incident opened: DR drill restore-test failed", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30));
            Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync(id))!.RuntimeStatus);
        }
    }

    /// <summary>The backup store, except that it refuses anything under incidents/ (a store that cannot take the incident).</summary>
    private sealed class IncidentsRefused(IBackupStore inner) : IBackupStore
    {
        public string Location => inner.Location;

        public Task<IObjectWriter> CreateAsync(string name, ObjectRetention retention, CancellationToken ct) => inner.CreateAsync(name, retention, ct);

        public Task WriteAllAsync(string name, ReadOnlyMemory<byte> content, ObjectRetention retention, CancellationToken ct) =>
            name.StartsWith(IncidentBook.Prefix, StringComparison.Ordinal) ? throw new RefusedException($"{name}: this store takes no incident") : inner.WriteAllAsync(name, content, retention, ct);

        public Task<Stream> OpenReadAsync(string name, CancellationToken ct) => inner.OpenReadAsync(name, ct);

        public Task<StoredObject?> GetAsync(string name, CancellationToken ct) => inner.GetAsync(name, ct);

        public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken ct) => inner.ListAsync(prefix, ct);

        public Task DeleteAsync(string name, CancellationToken ct) => inner.DeleteAsync(name, ct);

        public Task SetLegalHoldAsync(string name, bool hold, CancellationToken ct) => inner.SetLegalHoldAsync(name, hold, ct);

        public Task<IAsyncDisposable> LockAsync(string key, TimeSpan wait, CancellationToken ct) => inner.LockAsync(key, wait, ct);
    }
}
