using System.Text.Json;
using Floyo.Functions.Timers;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Functions.Tests.Timers;

/// <summary>The checks timer as the Functions app composes it (FloyoFunctionsApp), called directly: the host itself cannot run here.</summary>
[Trait("Tier", "Fast")]
public sealed class ChecksTimerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Microsoft.Extensions.Hosting.IHost App()
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem",
            ["BACKUP_DIR"] = _dir.Path,
            ["DATABASE_URL"] = "",
            ["CHECK_DISK_WARNING_PERCENT"] = "99",
            ["CHECK_DISK_CRITICAL_PERCENT"] = "100",
        });
        FloyoFunctionsApp.Configure(builder);
        return builder.Build();
    }

    [Fact]
    public async Task A_fresh_deployment_raises_nothing_and_a_surge_of_failed_runs_opens_one_incident()
    {
        using var app = App();
        var timer = ActivatorUtilities.CreateInstance<ChecksTimer>(app.Services);

        var fresh = await timer.RunAsync(new TimerInfo(), CancellationToken.None);

        Assert.Equal(8, fresh.Results.Count);
        Assert.False(fresh.HasFindings, string.Join("; ", fresh.Results.Select(r => $"{r.Check} {r.Status} {r.Detail}")));
        Assert.Contains(fresh.Results, r => r.Check == "replication-lag" && r.Status == CheckStatus.NotConfigured);
        Assert.Contains(fresh.Results, r => r.Check == "wal-copies" && r.Status == CheckStatus.NotConfigured);
        var alerts = app.Services.GetRequiredService<IncidentAlerts>();
        Assert.Empty(await alerts.ListOpenAsync(CancellationToken.None));

        var store = app.Services.GetRequiredService<IBackupStore>();
        for (var i = 0; i < 3; i++)
        {
            var record = new { workflow = "backup", instanceId = $"f{i}", outcome = WorkflowOutcome.Failed, at = DateTimeOffset.UtcNow, result = new { } };
            await store.WriteAllAsync(RecordRunActivity.NameFor("backup", $"f{i}"), JsonSerializer.SerializeToUtf8Bytes(record, Recovery.Backups.Json.Options), ObjectRetention.None, CancellationToken.None);
        }
        var surge = await timer.RunAsync(new TimerInfo(), CancellationToken.None);
        await timer.RunAsync(new TimerInfo(), CancellationToken.None);

        Assert.Equal(CheckStatus.Finding, surge.Results.Single(r => r.Check == "error-rate").Status);
        Assert.Equal("check:error-rate", Assert.Single(await alerts.ListOpenAsync(CancellationToken.None)).Key);
        // Sent once over two firings: one notification record for the incident.
        var sent = Directory.GetFiles(_dir.Path, "*.json", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_dir.Path, f)).Where(f => f.StartsWith("notifications", StringComparison.Ordinal)).ToList();
        Assert.True(sent.Count(f => !f.StartsWith("notifications/open/", StringComparison.Ordinal)) == 1, string.Join(", ", sent));
    }
}
