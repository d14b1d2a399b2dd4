using System.Text.Json;
using Floyo.Functions.Tests.Support;
using Floyo.Functions.Timers;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Functions.Tests.Timers;

public sealed class TimerFunctionTests
{
    private static TimerFunctions Timers(WorkflowHost host, FakeTimeProvider clock) =>
        new(new ScheduledStarter(host.Configuration, clock, NullLogger<ScheduledStarter>.Instance));

    [Fact]
    public async Task A_double_fire_of_one_slot_starts_one_run_with_the_slot_in_its_id()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-10-01T05:00:00.020Z", System.Globalization.CultureInfo.InvariantCulture));
        var timers = Timers(host, clock);

        var first = await timers.DrDrillAsync(new TimerInfo(), host.Client, default);
        clock.Advance(TimeSpan.FromSeconds(3));
        var second = await timers.DrDrillAsync(new TimerInfo(), host.Client, default);

        Assert.Equal("dr-drill-20261001T050000Z", first.InstanceId);
        Assert.True(first.Started);
        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.False(second.Started);
        var state = await host.WaitAsync(first.InstanceId);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        // An October slot is Q4: the security-breach drill. With no verified backup it cannot pass, and says why.
        var report = state.ReadOutputAs<DrillReport>()!;
        Assert.Equal(DrillScenario.SecurityBreach, report.Scenario);
        Assert.Equal(DrillStatus.Failed, report.Status);
        Assert.StartsWith("step 'choose backup' failed: no verified, non-suspect backup", report.Failures[0], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(scenario.BackupDir, "reports", "drills", report.Id + ".json")));

        // Once finished, a late duplicate fire still does not run the slot again.
        var third = await timers.DrDrillAsync(new TimerInfo(), host.Client, default);
        Assert.False(third.Started);
        var all = new List<OrchestrationMetadata>();
        await foreach (var instance in host.Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = "dr-drill-" }))
        {
            all.Add(instance);
        }
        Assert.Single(all, i => !i.InstanceId.EndsWith("-drill", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_incremental_timer_records_why_no_incremental_backup_was_taken_without_failing()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T11:59:55Z", System.Globalization.CultureInfo.InvariantCulture));

        var start = await Timers(host, clock).IncrementalBackupAsync(new TimerInfo(), host.Client, default);

        Assert.Equal("incremental-backup-20261126T120000Z", start.InstanceId);
        var state = await host.WaitAsync(start.InstanceId);
        // No archiving on the test server and no base backup: "not configured", four times a day, never a failure.
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(WorkflowOutcome.NotAvailable, state.ReadOutputAs<BackupWorkflowResult>()!.Outcome);
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scenario.BackupDir, RecordRunActivity.NameFor(BackupOrchestrator.RecordName, start.InstanceId))));
        Assert.NotEqual("failed", record.RootElement.GetProperty("outcome").GetString());
        Assert.Contains("WAL archiving is not set up", record.RootElement.GetProperty("result").GetProperty("incremental").GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schedule_setting_moves_the_slot()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings((Schedules.ConfigExportSetting, "0 */15 * * * *")));
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T10:47:12Z", System.Globalization.CultureInfo.InvariantCulture));

        var start = await Timers(host, clock).ConfigExportAsync(new TimerInfo(), host.Client, default);

        Assert.Equal("config-export-20261126T104500Z", start.InstanceId);
        var result = (await host.WaitAsync(start.InstanceId)).ReadOutputAs<ScheduledJobResult>()!;
        Assert.Equal(WorkflowOutcome.Succeeded, result.Outcome);
        Assert.StartsWith("config/", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 0 2 * * *", "2026-11-26T02:00:00.004Z", "2026-11-26T02:00:00Z")]
    [InlineData("0 0 2 * * *", "2026-11-26T01:59:57Z", "2026-11-26T02:00:00Z")] // fired a little early
    [InlineData("0 0 2 * * *", "2026-11-26T09:13:00Z", "2026-11-26T02:00:00Z")] // past due, after a restart
    [InlineData("0 0 */6 * * *", "2026-11-26T18:00:01Z", "2026-11-26T18:00:00Z")]
    [InlineData("0 0 3 * * 0", "2026-11-29T03:00:00Z", "2026-11-29T03:00:00Z")]
    [InlineData("0 0 4 1 * *", "2026-12-01T04:00:02Z", "2026-12-01T04:00:00Z")]
    [InlineData("0 0 5 1 1,4,7,10 *", "2026-11-26T00:00:00Z", "2026-10-01T05:00:00Z")]
    public void The_slot_is_the_latest_occurrence(string schedule, string now, string slot)
    {
        var actual = Schedules.SlotFor(Schedules.Parse(schedule, "TEST"), DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse(slot, System.Globalization.CultureInfo.InvariantCulture), actual);
    }

    [Fact]
    public void A_bad_schedule_names_its_setting()
    {
        var e = Assert.ThrowsAny<Recovery.RecoveryException>(() => Schedules.Parse("0 2 * * *", Schedules.FullBackupSetting));
        Assert.StartsWith("SCHEDULE_FULL_BACKUP '0 2 * * *' is not a six-field schedule", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Instance_ids_follow_the_slot()
    {
        Assert.Equal("full-backup-20261126T020000Z", Schedules.InstanceId(Schedules.FullBackup, new DateTimeOffset(2026, 11, 26, 2, 0, 0, TimeSpan.Zero)));
        Assert.Equal(Schedules.All.Count, Schedules.All.Select(s => s.InstancePrefix).Distinct().Count());
    }
}
