namespace Floyo.Recovery.Backups;

/// <summary>Where the recovery point stands: the newest verified backup, its age, and the target it is held to.</summary>
public sealed record RpoStatus(bool WithinTarget, string? Database, string? NewestVerifiedBackup, DateTimeOffset? BackupTimestamp, double? AgeSeconds, double TargetSeconds, string Reason);

/// <summary>Measures the recovery point against RPO_TARGET: only a backup that was restored and matched counts.</summary>
public sealed class RpoCheck(BackupCatalog catalog, TimeProvider clock)
{
    public async Task<RpoStatus> CheckAsync(string? database, TimeSpan target, CancellationToken ct)
    {
        var newest = await catalog.LatestVerifiedAsync(database, ct);
        var scope = database is null ? "" : $" of '{database}'";
        if (newest is null)
        {
            return new RpoStatus(false, database, null, null, null, target.TotalSeconds, $"no verified backup{scope} in {catalog.Store.Location}: the recovery point is unknown");
        }
        var age = clock.GetUtcNow() - newest.Metadata.Timestamp;
        var within = age <= target;
        var reason = within
            ? $"newest verified backup{scope} {newest.Name} is {Describe(age)} old, within the {Describe(target)} RPO target"
            : $"RPO breached: newest verified backup{scope} {newest.Name} is {Describe(age)} old, over the {Describe(target)} RPO target";
        return new RpoStatus(within, database, newest.Name, newest.Metadata.Timestamp, Math.Round(age.TotalSeconds), target.TotalSeconds, reason);
    }

    private static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 2 } => $"{span.TotalDays:F1} days",
        { TotalHours: >= 1 } => $"{(int)span.TotalHours}h{span.Minutes:D2}m",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes}m",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)}s",
    };
}
