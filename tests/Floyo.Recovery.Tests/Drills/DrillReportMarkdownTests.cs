using Floyo.Recovery.Drills;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>The drill report a person reads, rendered from a fabricated report: verdict, targets against achieved values, timeline.</summary>
[Trait("Tier", "Fast")]
public sealed class DrillReportMarkdownTests
{
    private static readonly DateTimeOffset Incident = new(2030, 1, 10, 2, 0, 0, TimeSpan.Zero);
    private static readonly RecoveryTargets Targets = new(TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeSpan.FromHours(4));

    private static DrillReport Report(TimeSpan? rto, TimeSpan? rpo, IReadOnlyList<string> failures) => new(
        "corruption-20300110T020000Z", "corruption", failures.Count == 0 ? DrillStatus.Passed : DrillStatus.Failed, Incident, Incident.AddMinutes(45),
        "shop_full_20300110_013000.dump.zst", Incident.AddMinutes(-30), rto, rpo, Targets,
        [
            new DrillStep("restore", Incident.AddSeconds(5), Incident.AddSeconds(65.4), true, "restored into staging"),
            new DrillStep("check", Incident.AddSeconds(70), Incident.AddSeconds(71), false, "rows | differ"),
        ],
        failures);

    [Fact]
    public void A_passed_drill_leads_with_its_verdict_and_meets_its_targets()
    {
        var md = DrillReportMarkdown.Render(Report(TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30), []));
        var lines = md.Split('\n');
        Assert.Equal("# DR drill corruption-20300110T020000Z: PASSED", lines[0]);
        Assert.Contains("- Declared incident: 2030-01-10 02:00:00 UTC; finished: 2030-01-10 02:45:00 UTC", lines);
        Assert.Contains("- Restore point: `shop_full_20300110_013000.dump.zst` (2030-01-10 01:30:00 UTC)", lines);
        Assert.Contains($"| RTO (incident to verified service) | {RecoveryMeasurement.Format(TimeSpan.FromMinutes(20))} | {RecoveryMeasurement.Format(Targets.RtoTarget)} | {RecoveryMeasurement.Format(Targets.RtoMax)} | met |", lines);
        Assert.DoesNotContain("## Why it did not pass", lines);
    }

    [Fact]
    public void Missed_targets_and_maximums_are_told_apart_and_failures_listed()
    {
        var md = DrillReportMarkdown.Render(Report(TimeSpan.FromMinutes(45), TimeSpan.FromHours(5), ["RPO over its maximum"]));
        var lines = md.Split('\n');
        Assert.StartsWith("| RTO (incident to verified service) |", lines.Single(l => l.Contains("MISSED target |", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.StartsWith("| RPO (restore point to incident) |", lines.Single(l => l.Contains("MISSED maximum |", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("- RPO over its maximum", lines);
        Assert.Equal("# DR drill corruption-20300110T020000Z: FAILED", lines[0]);
    }

    [Fact]
    public void An_unmeasured_value_says_so_and_the_timeline_escapes_table_pipes()
    {
        var md = DrillReportMarkdown.Render(Report(null, null, ["no backup"]));
        Assert.Contains($"| RTO (incident to verified service) | not measured | {RecoveryMeasurement.Format(Targets.RtoTarget)} | {RecoveryMeasurement.Format(Targets.RtoMax)} | - |", md, StringComparison.Ordinal);
        Assert.Contains("| 1 | restore | 02:00:05 | 60.4 | ok | restored into staging |", md, StringComparison.Ordinal);
        Assert.Contains("| 2 | check | 02:01:10 | 1.0 | FAILED | rows \\| differ |", md, StringComparison.Ordinal);
    }
}
