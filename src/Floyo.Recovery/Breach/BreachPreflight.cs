using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;

namespace Floyo.Recovery.Breach;

public sealed record BreachCheck(Incident Incident, CleanBackupChoice Backup, BreachTarget Target);

/// <summary>
/// Everything that can reject a breach recovery, checked before anything is changed: --since must be a
/// real, zoned, past time, a clean backup taken before it must exist, and the target must be reachable
/// (in a drill: staging, never production), and a non-superuser admin must be able to restore the backup there
/// (<see cref="RestorePreflight"/>). A failure here isolates nothing.
/// </summary>
public sealed class BreachPreflight(CleanBackupSelector selector, BreachTargets targets, BackupCatalog catalog, TimeProvider clock)
{
    public async Task<BreachCheck> CheckAsync(string? since, bool drill, CancellationToken ct, string? incidentId = null)
    {
        var now = clock.GetUtcNow();
        var start = BreachSince.Parse(since, now);
        var choice = await selector.ChooseAsync(targets.BackupDatabase, start, ct);
        var target = await targets.DescribeAsync(drill, ct);
        var server = await targets.ConnectionAsync(drill, ct);
        await using (var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct))
        {
            // Sessions are not checked here: isolation must not wait for a superuser's session; the restore step checks them.
            await RestorePreflight.CheckAsync(admin, catalog.Store, await catalog.FindAsync(choice.Backup, ct), server.Database!,
                await PgConnector.DatabaseExistsAsync(admin, server.Database!, ct), ct, superuserSessions: false);
        }
        return new BreachCheck(new Incident(incidentId ?? Incident.NewId(now), start, now, drill), choice, target);
    }
}
