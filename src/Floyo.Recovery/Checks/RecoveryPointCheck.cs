using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>
/// The recovery point (<see cref="RecoveryPointFinder"/>: continuous WAL or the newest verified dump) against the
/// plan: past RPO_MAX or a gap in the WAL archive is critical; past RPO_TARGET is a warning where WAL archiving is
/// in place (a base backup exists). Without archiving the 1 h target cannot be met by daily dumps, which is a
/// deployment choice and not an incident: the detail says so and RPO_MAX still holds.
/// </summary>
public sealed class RecoveryPointCheck(BackupCatalog catalog, AppHistory history, IOptions<DatabaseOptions> database, IOptions<RecoveryTargetOptions> targets, TimeProvider clock) : ICheck
{
    public string Name => "recovery-point";

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        var db = ProtectedDatabase.Name(database);
        var (target, max) = (targets.Value.RpoTarget, targets.Value.RpoMax);
        var now = clock.GetUtcNow();
        var point = await new RecoveryPointFinder(catalog).FindAsync(db, ct);
        if (point.Time is not { } time)
        {
            if (point.Finding is not null)
            {
                return CheckResult.Finding(Name, NotificationSeverity.Critical, $"the recovery point is unknown: the WAL archive is broken ({point.Finding}) and no backup is verified");
            }
            if (await history.FirstRunAsync(ct) is { } first && now - first > max)
            {
                return CheckResult.Finding(Name, NotificationSeverity.Critical,
                    $"no verified backup and no continuous WAL archive in {catalog.Store.Location} after {CheckText.Duration(now - first)} of running: nothing could be restored (RPO_MAX {CheckText.Duration(max)})");
            }
            return CheckResult.Ok(Name, $"no verified backup yet; this check is armed once the app has run for RPO_MAX ({CheckText.Duration(max)})");
        }
        var age = now - time;
        DrMetrics.RecordRecoveryPointAge(age, point.WalTime is not null ? "wal" : "dump");
        var seconds = Math.Round(age.TotalSeconds);
        var what = $"the recovery point ({point.Source}) is {CheckText.Duration(age)} old";
        if (age > max)
        {
            return CheckResult.Finding(Name, NotificationSeverity.Critical, $"RPO maximum breached: {what}, over RPO_MAX {CheckText.Duration(max)}", seconds, "s");
        }
        if (point.Finding is not null)
        {
            return CheckResult.Finding(Name, NotificationSeverity.Critical, $"the WAL archive is broken ({point.Finding}): {what} and will not advance", seconds, "s");
        }
        if (point.WalTime is null)
        {
            return CheckResult.Ok(Name, $"{what}, within RPO_MAX {CheckText.Duration(max)}; RPO_TARGET {CheckText.Duration(target)} needs WAL archiving (no base backup), daily dumps alone cannot meet it", seconds, "s");
        }
        return age > target
            ? CheckResult.Finding(Name, NotificationSeverity.Warning, $"RPO target missed: {what}, over RPO_TARGET {CheckText.Duration(target)} (is the archiver stalled?)", seconds, "s")
            : CheckResult.Ok(Name, $"{what}, within RPO_TARGET {CheckText.Duration(target)}", seconds, "s");
    }
}
