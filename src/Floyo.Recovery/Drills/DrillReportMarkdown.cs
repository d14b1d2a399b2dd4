using System.Globalization;
using System.Text;

namespace Floyo.Recovery.Drills;

/// <summary>The human-readable drill report: verdict first, then targets against achieved values, then the timeline.</summary>
public static class DrillReportMarkdown
{
    public static string Render(DrillReport r)
    {
        var md = new StringBuilder();
        var line = (string text) => md.Append(text).Append('\n');
        line($"# DR drill {r.Id}: {r.Status.ToUpperInvariant()}");
        line("");
        line($"- Scenario: **{r.Scenario}**");
        line($"- Declared incident: {Time(r.IncidentAt)}; finished: {Time(r.FinishedAt)}");
        line($"- Restore point: {(r.Backup is null ? "none" : $"`{r.Backup}` ({Time(r.RestorePoint!.Value)})")}");
        line("");
        line("| measure | achieved | target | maximum | result |");
        line("|---|---|---|---|---|");
        line(Row("RTO (incident to verified service)", r.Rto, r.Targets.RtoTarget, r.Targets.RtoMax));
        line(Row("RPO (restore point to incident)", r.Rpo, r.Targets.RpoTarget, r.Targets.RpoMax));
        line("");
        if (r.RpoFindings.Count > 0)
        {
            line("## RPO findings (WAL archive)");
            line("");
            foreach (var finding in r.RpoFindings)
            {
                line($"- {finding}");
            }
            line("");
        }
        if (r.Failures.Count > 0)
        {
            line("## Why it did not pass");
            line("");
            foreach (var failure in r.Failures)
            {
                line($"- {failure}");
            }
            line("");
        }
        line("## Timeline");
        line("");
        line("| # | step | started | seconds | result | detail |");
        line("|---|---|---|---|---|---|");
        for (var i = 0; i < r.Steps.Count; i++)
        {
            var s = r.Steps[i];
            line($"| {i + 1} | {s.Name} | {s.StartedAt.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} | {s.Seconds.ToString("F1", CultureInfo.InvariantCulture)} | {(s.Succeeded ? "ok" : "FAILED")} | {s.Detail.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }
        return md.ToString();
    }

    private static string Row(string name, TimeSpan? achieved, TimeSpan target, TimeSpan max) => achieved is { } a
        ? $"| {name} | {RecoveryMeasurement.Format(a)} | {RecoveryMeasurement.Format(target)} | {RecoveryMeasurement.Format(max)} | {(a <= target ? "met" : a <= max ? "MISSED target" : "MISSED maximum")} |"
        : $"| {name} | not measured | {RecoveryMeasurement.Format(target)} | {RecoveryMeasurement.Format(max)} | - |";

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
