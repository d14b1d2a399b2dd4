namespace Floyo.Recovery.Drills;

/// <summary>Achieved RTO and RPO against the targets and the maximum acceptable values.</summary>
public static class RecoveryMeasurement
{
    public static (TimeSpan Rto, TimeSpan Rpo, IReadOnlyList<string> Failures) Evaluate(
        DateTimeOffset incidentAt, DateTimeOffset restorePoint, DateTimeOffset serviceVerifiedAt, RecoveryTargets targets)
    {
        var rto = serviceVerifiedAt - incidentAt;
        var rpo = incidentAt - restorePoint;
        var failures = new List<string>();
        Judge("RTO", rto, targets.RtoTarget, targets.RtoMax, failures);
        Judge("RPO", rpo, targets.RpoTarget, targets.RpoMax, failures);
        return (rto, rpo, failures);
    }

    /// <summary>
    /// The recovery point at the incident: the restored backup's time, or, when later, the end of the WAL archive
    /// proven continuous from the newest base backup (capped at the incident: nothing after it is to be recovered).
    /// </summary>
    public static DateTimeOffset RecoveryPoint(DateTimeOffset restoredBackup, DateTimeOffset? continuousWal, DateTimeOffset incidentAt)
    {
        var wal = continuousWal is { } w && w > incidentAt ? incidentAt : continuousWal;
        return wal is { } point && point > restoredBackup ? point : restoredBackup;
    }

    private static void Judge(string what, TimeSpan achieved, TimeSpan target, TimeSpan max, List<string> failures)
    {
        if (achieved > max)
        {
            failures.Add($"{what} {Format(achieved)} exceeds the maximum acceptable {Format(max)}");
        }
        else if (achieved > target)
        {
            failures.Add($"{what} {Format(achieved)} exceeds the target {Format(target)} (within the maximum {Format(max)})");
        }
    }

    public static string Format(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours}h{span.Minutes:00}m{span.Seconds:00}s"
        : span.TotalMinutes >= 1 ? $"{span.Minutes}m{span.Seconds:00}s" : $"{span.TotalSeconds:F1}s";
}
