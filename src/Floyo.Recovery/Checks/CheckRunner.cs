using Floyo.Recovery.Notifications;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Checks;

/// <summary>
/// Runs every check, one after the other (they are light reads). A check that throws (server unreachable,
/// credentials refused, store unreadable) is a warning finding saying so: the check could not vouch for its part.
/// </summary>
public sealed class CheckRunner(IEnumerable<ICheck> checks, TimeProvider clock, ILogger<CheckRunner> logger)
{
    public IReadOnlyList<string> Names => [.. checks.Select(c => c.Name)];

    public async Task<CheckReport> RunAsync(CancellationToken ct)
    {
        var at = clock.GetUtcNow();
        var results = new List<CheckResult>();
        foreach (var check in checks)
        {
            CheckResult result;
            try
            {
                result = await check.RunAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.CheckCouldNotRun(check.Name, e.Message, e);
                result = CheckResult.Finding(check.Name, NotificationSeverity.Warning, $"could not run: {e.Message.ReplaceLineEndings(" ")}");
            }
            logger.CheckResult(result.Check, result.Status.ToString(), result.Severity?.ToString() ?? "-", result.Value, result.Unit ?? "", result.Detail);
            if (result.Status == CheckStatus.Finding)
            {
                logger.CheckFinding(result.Check, result.Severity.ToString()!, result.Detail);
            }
            results.Add(result);
        }
        logger.ChecksFinished(results.Count(r => r.Status == CheckStatus.Ok), results.Count(r => r.Status == CheckStatus.Finding), results.Count(r => r.Status == CheckStatus.NotConfigured));
        return new CheckReport(at, results);
    }
}

/// <summary>
/// Turns a check report into incidents: a finding raises <c>check:&lt;name&gt;</c> (once, while it lasts); a check
/// that passes again, or is no longer configured, resolves its open incident. "Not configured" never raises one.
/// </summary>
public sealed class CheckAlerter(IncidentAlerts alerts)
{
    public async Task<IReadOnlyList<AlertResult>> ApplyAsync(CheckReport report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        var actions = new List<AlertResult>();
        var open = (await alerts.ListOpenAsync(ct)).Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var result in report.Results)
        {
            if (result.Status == CheckStatus.Finding)
            {
                actions.Add(await alerts.RaiseAsync(result.AlertKey, result.Severity ?? NotificationSeverity.Warning, $"Health check {result.Check} found a problem", result.Detail, ct));
            }
            else if (open.Contains(result.AlertKey))
            {
                var why = result.Status == CheckStatus.Ok ? "passes again" : "is no longer configured";
                actions.Add(await alerts.ResolveAsync(result.AlertKey, $"Check {result.Check} {why}: {result.Detail}", ct));
            }
        }
        return actions;
    }
}
