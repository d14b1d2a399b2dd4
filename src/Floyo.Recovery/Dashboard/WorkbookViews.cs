using Floyo.Recovery.Checks;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Notifications;

namespace Floyo.Recovery.Dashboard;

/// <summary>
/// One view of the workbook (infra/bicep/modules/workbook.bicep) as the dashboard computes it: the name of its
/// query there, its output columns in KQL's order, the metrics or event ids it reads, and its time bin.
/// A test parses the Bicep and holds these to its queries, so the two cannot drift.
/// </summary>
public sealed record WorkbookView(string Name, string Title, IReadOnlyList<string> Columns, IReadOnlyList<string> Metrics, IReadOnlyList<int> EventIds, TimeSpan? Bin)
{
    public int Column(string name)
    {
        var index = Columns.ToList().IndexOf(name);
        return index >= 0 ? index : throw new ArgumentException($"view {Name} has no column {name}", nameof(name));
    }
}

public static class WorkbookViews
{
    /// <summary>The workbook's time range (timeContext 30 days), the dashboard's default window.</summary>
    public const int DefaultDays = 30;

    /// <summary>How far back the open-incidents query looks for a key's newest event (<c>ago(90d)</c>).</summary>
    public static readonly TimeSpan IncidentLookback = TimeSpan.FromDays(90);

    /// <summary>The last-drills query keeps the newest ten (<c>top 10 by at desc</c>).</summary>
    public const int DrillsShown = 10;

    public static readonly WorkbookView BackupsPerDay = new(
        "backups-per-day", "Backups per day: count, duration, stored size, compression",
        ["day", "database", "kind", "backups", "avgDurationSeconds", "maxDurationSeconds", "storedMiB", "compressionRatio"],
        [DrMetrics.BackupDurationName, DrMetrics.BackupSizeName, DrMetrics.BackupCompressionRatioName], [], TimeSpan.FromDays(1));

    public static readonly WorkbookView RecoveryPointAge = new(
        "recovery-point-age", "Recovery point age (hours), from the checks every 15 minutes",
        ["TimeGenerated", "source", "ageHours"],
        [DrMetrics.RecoveryPointAgeName], [], TimeSpan.FromMinutes(15));

    public static readonly WorkbookView LastDrills = new(
        "last-drills", "Last drills: RTO and RPO against the targets",
        ["at", "scenario", "status", "rtoMinutes", "rpoMinutes", "rtoTargetMinutes", "rpoTargetMinutes", "rtoMet", "rpoMet"],
        [DrMetrics.DrillRtoName, DrMetrics.DrillRpoName], [], TimeSpan.FromMinutes(1));

    public static readonly WorkbookView OpenIncidents = new(
        "open-incidents", "Open incidents (one per cause)",
        ["openedAt", "key", "Message"],
        [], [IncidentAlerts.OpenedEventId, IncidentAlerts.ResolvedEventId], null);

    public static readonly WorkbookView Failures = new(
        "failures", "Failures: Error/Critical events and check findings per day",
        ["day", "eventId", "what", "failures", "last", "example"],
        [], [CheckLogs.CheckFindingId], TimeSpan.FromDays(1));

    public static IReadOnlyList<WorkbookView> All { get; } = [BackupsPerDay, RecoveryPointAge, LastDrills, OpenIncidents, Failures];
}
