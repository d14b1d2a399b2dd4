using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Backups;

/// <summary>Where the recovery point stands: its time and source (continuous WAL or the newest verified dump), its age, and the target it is held to.</summary>
public sealed record RpoStatus(bool WithinTarget, string? Database, string? NewestVerifiedBackup, DateTimeOffset? BackupTimestamp, double? AgeSeconds, double TargetSeconds, string Reason)
{
    public DateTimeOffset? RecoveryPoint { get; init; }

    public string? RecoveryPointSource { get; init; }
}

/// <summary>
/// Measures the recovery point against RPO_TARGET: the later of the newest continuously archived WAL (since the
/// newest base backup) and the newest backup that was restored and matched (<see cref="RecoveryPointFinder"/>).
/// </summary>
public sealed class RpoCheck(BackupCatalog catalog, TimeProvider clock, ArchiveHealthProbe? health = null, Microsoft.Extensions.Options.IOptions<WalOptions>? wal = null,
    WalCopyLagProbe? copies = null)
{
    public async Task<RpoStatus> CheckAsync(string? database, TimeSpan target, CancellationToken ct)
    {
        var point = await new RecoveryPointFinder(catalog, health, wal, copies).FindAsync(database, ct);
        var scope = database is null ? "" : $" of '{database}'";
        var gap = point.Finding is null ? "" : $" (WAL archive: {point.Finding})";
        if (point.Time is not { } time)
        {
            return new RpoStatus(false, database, null, null, null, target.TotalSeconds, $"no verified backup{scope} and no continuous WAL archive in {catalog.Store.Location}: the recovery point is unknown{gap}");
        }
        var age = clock.GetUtcNow() - time;
        var within = age <= target && point.Finding is null;
        var what = point.DumpBackup == null || point.WalTime > point.DumpTime ? $"recovery point{scope} ({point.Source})" : $"newest verified backup{scope} {point.DumpBackup}";
        var reason = within
            ? $"{what} is {Describe(age)} old, within the {Describe(target)} RPO target"
            : age > target
                ? $"RPO breached: {what} is {Describe(age)} old, over the {Describe(target)} RPO target{gap}"
                : $"RPO breached: the WAL archive is broken ({point.Finding}); {what} is {Describe(age)} old and will not advance";
        return new RpoStatus(within, database, point.DumpBackup, point.DumpTime, Math.Round(age.TotalSeconds), target.TotalSeconds, reason)
        {
            RecoveryPoint = time,
            RecoveryPointSource = point.Source,
        };
    }

    private static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 2 } => $"{span.TotalDays:F1} days",
        { TotalHours: >= 1 } => $"{(int)span.TotalHours}h{span.Minutes:D2}m",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes}m",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)}s",
    };
}
