using System.Text.Json;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Checks;

/// <summary>The error-rate check counts the run records the workflows write (runs/&lt;workflow&gt;/&lt;instance&gt;.json).</summary>
[Trait("Tier", "Fast")]
public sealed class ErrorRateCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FilesystemStore _store;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    public ErrorRateCheckTests() => _store = new FilesystemStore(_dir.Path);

    public void Dispose() => _dir.Dispose();

    private ErrorRateCheck Check(CheckOptions? options = null) => new(_store, Options.Create(options ?? new CheckOptions()), _clock);

    private async Task RunsAsync(string workflow, int count, WorkflowOutcome outcome, TimeSpan ago)
    {
        for (var i = 0; i < count; i++)
        {
            var id = $"{workflow}-{outcome}-{ago.TotalMinutes}-{i}";
            var record = new { workflow, instanceId = id, outcome, at = _clock.GetUtcNow() - ago, result = new { } };
            await _store.WriteAllAsync(RecordRunActivity.NameFor(workflow, id), JsonSerializer.SerializeToUtf8Bytes(record, Recovery.Backups.Json.Options), ObjectRetention.None, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_surge_of_failures_over_the_baseline_is_a_warning_naming_the_workflows()
    {
        await RunsAsync("backup", 20, WorkflowOutcome.Succeeded, TimeSpan.FromDays(3));
        await RunsAsync("backup", 1, WorkflowOutcome.Failed, TimeSpan.FromDays(4));
        await RunsAsync("backup", 3, WorkflowOutcome.Failed, TimeSpan.FromHours(2));
        await RunsAsync("retention-cleanup", 1, WorkflowOutcome.Failed, TimeSpan.FromHours(5));
        await RunsAsync("backup", 1, WorkflowOutcome.Succeeded, TimeSpan.FromHours(1));

        var result = await Check().RunAsync(CancellationToken.None);

        Assert.Equal(CheckStatus.Finding, result.Status);
        Assert.Equal(NotificationSeverity.Warning, result.Severity);
        Assert.Equal(4, result.Value);
        Assert.Contains("4 of 5 workflow runs failed in the last 24h00m", result.Detail, StringComparison.Ordinal);
        Assert.Contains("1 of 21", result.Detail, StringComparison.Ordinal);
        Assert.Contains("backup x3, retention-cleanup x1", result.Detail, StringComparison.Ordinal);
        Assert.Equal("check:error-rate", result.AlertKey);
    }

    [Fact]
    public async Task Failures_below_the_minimum_or_as_usual_as_the_baseline_are_not_unusual()
    {
        await RunsAsync("backup", 2, WorkflowOutcome.Failed, TimeSpan.FromHours(1));
        Assert.Equal(CheckStatus.Ok, (await Check().RunAsync(CancellationToken.None)).Status);

        // A chronic failure rate (half of everything, every day) is each failure's own incident, not a surge.
        await RunsAsync("files-snapshot", 1, WorkflowOutcome.Failed, TimeSpan.FromHours(3));
        await RunsAsync("files-snapshot", 10, WorkflowOutcome.Failed, TimeSpan.FromDays(2));
        await RunsAsync("files-snapshot", 10, WorkflowOutcome.Succeeded, TimeSpan.FromDays(2));
        await RunsAsync("backup", 3, WorkflowOutcome.Succeeded, TimeSpan.FromHours(1));
        var chronic = await Check().RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatus.Ok, chronic.Status);
        Assert.Contains("3 of 6 workflow runs failed", chronic.Detail, StringComparison.Ordinal);

        // "Not available" (a feature not set up here) is not a failure.
        await RunsAsync("incremental", 5, WorkflowOutcome.NotAvailable, TimeSpan.FromMinutes(10));
        Assert.Equal(CheckStatus.Ok, (await Check().RunAsync(CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Runs_older_than_window_and_baseline_are_not_counted()
    {
        await RunsAsync("backup", 5, WorkflowOutcome.Failed, TimeSpan.FromDays(9));
        var result = await Check().RunAsync(CancellationToken.None);
        Assert.Equal(CheckStatus.Ok, result.Status);
        Assert.Contains("0 of 0 workflow runs failed", result.Detail, StringComparison.Ordinal);
    }
}
