using System.Text.Json;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Workflows.Activities;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>
/// Unusual error rates, from what the app records itself: every workflow (backups, checksum sweep, restore
/// tests, drills, retention, files snapshot, configuration export, restores, breach recovery) writes its outcome
/// to <c>runs/&lt;workflow&gt;/&lt;instance&gt;.json</c>. Counted: runs whose outcome is <c>failed</c>
/// ("not available" is not a failure). A finding needs at least CHECK_ERROR_MIN_FAILURES failures in the last
/// CHECK_ERROR_WINDOW and a failure rate above CHECK_ERROR_FACTOR times the rate of the CHECK_ERROR_BASELINE
/// before it. Each failure also raises its own incident; this check catches a surge across workflows. HTTP 5xx
/// are watched by the Function app's metric alert in Azure Monitor (infra/bicep/modules/alerts.bicep).
/// </summary>
public sealed class ErrorRateCheck(IBackupStore store, IOptions<CheckOptions> options, TimeProvider clock) : ICheck
{
    public string Name => "error-rate";

    private sealed record Run(string Workflow, bool Failed, DateTimeOffset At);

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = clock.GetUtcNow();
        var windowStart = now - o.ErrorWindow;
        var baselineStart = windowStart - o.ErrorBaseline;
        var runs = new List<Run>();
        await foreach (var stored in store.ListAsync(RecordRunActivity.Prefix, ct))
        {
            // A record is written once, when its run ends: older objects cannot fall in either period.
            if (stored.LastModified < baselineStart || !stored.Name.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }
            if (await ReadAsync(stored.Name, ct) is { } run && run.At >= baselineStart && run.At <= now)
            {
                runs.Add(run);
            }
        }
        var window = runs.Where(r => r.At >= windowStart).ToList();
        var baseline = runs.Where(r => r.At < windowStart).ToList();
        var failed = window.Where(r => r.Failed).ToList();
        var windowRate = window.Count == 0 ? 0 : (double)failed.Count / window.Count;
        var baselineRate = baseline.Count == 0 ? 0 : (double)baseline.Count(r => r.Failed) / baseline.Count;
        var detail = $"{failed.Count} of {window.Count} workflow runs failed in the last {CheckText.Duration(o.ErrorWindow)} ({CheckText.Percent(100 * windowRate)}), "
            + $"against {baseline.Count(r => r.Failed)} of {baseline.Count} ({CheckText.Percent(100 * baselineRate)}) in the {CheckText.Duration(o.ErrorBaseline)} before";
        if (failed.Count >= o.ErrorMinFailures && windowRate > o.ErrorFactor * baselineRate)
        {
            var which = string.Join(", ", failed.GroupBy(r => r.Workflow).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} x{g.Count()}"));
            return CheckResult.Finding(Name, NotificationSeverity.Warning, $"unusual failure rate: {detail}; failed: {which}", failed.Count, "failed runs");
        }
        return CheckResult.Ok(Name, detail, failed.Count, "failed runs");
    }

    private async Task<Run?> ReadAsync(string name, CancellationToken ct)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(name, ct);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
            var root = document.RootElement;
            var outcome = root.GetProperty("outcome");
            var failed = outcome.ValueKind == JsonValueKind.String
                ? string.Equals(outcome.GetString(), "failed", StringComparison.OrdinalIgnoreCase)
                : outcome.ValueKind == JsonValueKind.Number && outcome.GetInt32() == (int)Workflows.Models.WorkflowOutcome.Failed;
            return new Run(root.GetProperty("workflow").GetString() ?? "?", failed, root.GetProperty("at").GetDateTimeOffset());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ObjectNotFoundException)
        {
            // A damaged or vanished record is not a run we can count.
            return null;
        }
    }
}
