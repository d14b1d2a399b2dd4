using System.Globalization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Wal;

/// <summary>The base backup to start from and the archive that carries it to the target.</summary>
public sealed record PitrPlan(BaseBackupEntry Base, DateTimeOffset Target, DateTimeOffset EarliestRecoverable, DateTimeOffset LatestRecoverable, WalContinuityReport Continuity);

/// <summary>
/// Chooses the newest base backup that was consistent before the target, and refuses (one line, naming the
/// nearest recoverable times) a target before the earliest base backup, in the future, or past the end of
/// the continuous archive. Reads only; nothing is touched.
/// </summary>
public sealed class PitrPlanner(BaseBackupCatalog bases, WalArchive archive, WalContinuity continuity, TimeProvider clock)
{
    public async Task<PitrPlan> PlanAsync(DateTimeOffset target, CancellationToken ct)
    {
        var all = await bases.ListAsync(ct);
        if (all.Count == 0)
        {
            throw new RecoveryException($"no base backup in {archive.Store.Location}: point-in-time recovery needs one ('floyo-dr backup --base')");
        }
        var earliest = all.Min(b => b.Metadata.StopTime);
        var chosen = all.Where(b => b.Metadata.StopTime <= target).MaxBy(b => b.Metadata.StopTime);
        var latest = await LatestRecoverableAsync(chosen ?? all.MinBy(b => b.Metadata.StopTime)!, ct);
        var now = clock.GetUtcNow();
        if (target > now)
        {
            throw new RefusedException($"the target {Show(target)} is in the future; the recoverable times are {Show(earliest)} to {Show(latest.Time)}; nothing was changed");
        }
        if (chosen is null)
        {
            throw new RefusedException($"the target {Show(target)} is before the earliest base backup; the earliest recoverable time is {Show(earliest)}; nothing was changed");
        }
        if (target > latest.Time)
        {
            var why = latest.Report.FirstGap is { } gap ? $"the archive has a gap at {gap}" : "the archive ends there";
            throw new RefusedException($"the target {Show(target)} is past the end of the archive ({why}); the latest recoverable time is {Show(latest.Time)}; nothing was changed");
        }
        return new PitrPlan(chosen, target, earliest, latest.Time, latest.Report);
    }

    /// <summary>
    /// The recoverable moment nearest <paramref name="wanted"/> at or before it (the archive may end earlier: what is
    /// not archived yet cannot be recovered), with the plan to reach it; null without a base backup consistent by then.
    /// </summary>
    public async Task<PitrPlan?> PlanUpToAsync(DateTimeOffset wanted, CancellationToken ct)
    {
        var chosen = (await bases.ListAsync(ct)).Where(b => b.Metadata.StopTime <= wanted).MaxBy(b => b.Metadata.StopTime);
        if (chosen is null)
        {
            return null;
        }
        var latest = await LatestRecoverableAsync(chosen, ct);
        return await PlanAsync(latest.Time < wanted ? latest.Time : wanted, ct);
    }

    /// <summary>The time the last segment continuous from <paramref name="start"/> was archived: WAL up to then is in the archive.</summary>
    private async Task<(DateTimeOffset Time, WalContinuityReport Report)> LatestRecoverableAsync(BaseBackupEntry start, CancellationToken ct)
    {
        var report = await continuity.CheckFromAsync(start.Metadata, ct);
        if (report.LastContiguous is null)
        {
            return (start.Metadata.StopTime, report);
        }
        var read = await WalArchiveRecord.ReadAsync(archive.Store, report.LastContiguous, ct);
        var archivedAt = read.Value?.ArchivedAt ?? start.Metadata.StopTime;
        return (archivedAt > start.Metadata.StopTime ? archivedAt : start.Metadata.StopTime, report);
    }

    public static string Show(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
