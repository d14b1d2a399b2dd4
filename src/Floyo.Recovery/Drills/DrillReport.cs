namespace Floyo.Recovery.Drills;

/// <summary>One timed step of a drill.</summary>
public sealed record DrillStep(string Name, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, bool Succeeded, string Detail)
{
    public double Seconds => Math.Round((FinishedAt - StartedAt).TotalSeconds, 3);
}

/// <summary>
/// Where the restored copy's WAL archive ends (null: no base backup there) and what is wrong with the archive: a
/// failing or stopped archiver, a gap, a slot retaining too much WAL, a further copy lagging. Each finding is an RPO
/// finding of the drill, as it is one of /api/health and list.
/// </summary>
public sealed record ArchiveRecoveryPoint(DateTimeOffset? WalTime, IReadOnlyList<string> Findings);

public sealed record RecoveryTargets(TimeSpan RtoTarget, TimeSpan RpoTarget, TimeSpan RtoMax, TimeSpan RpoMax);

public static class DrillStatus
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string NotAvailable = "not-available";
}

/// <summary>
/// The machine-readable result of a drill. RTO runs from the declared incident to verified service;
/// RPO from the restore point (the backup's snapshot) to the incident.
/// </summary>
public sealed record DrillReport(
    string Id,
    string Scenario,
    string Status,
    DateTimeOffset IncidentAt,
    DateTimeOffset FinishedAt,
    string? Backup,
    DateTimeOffset? RestorePoint,
    TimeSpan? Rto,
    TimeSpan? Rpo,
    RecoveryTargets Targets,
    IReadOnlyList<DrillStep> Steps,
    IReadOnlyList<string> Failures)
{
    /// <summary>What the WAL archive's health says about the recovery point (<see cref="ArchiveRecoveryPoint.Findings"/>); each is also a failure.</summary>
    public IReadOnlyList<string> RpoFindings { get; init; } = [];

    public const string Prefix = "reports/drills/";

    public string JsonName => $"{Prefix}{Id}.json";

    public string MarkdownName => $"{Prefix}{Id}.md";
}
