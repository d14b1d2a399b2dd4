namespace Floyo.Recovery.Breach;

public sealed record BreachCheck(Incident Incident, CleanBackupChoice Backup, BreachTarget Target);

/// <summary>
/// Everything that can reject a breach recovery, checked before anything is changed: --since must be a
/// real, zoned, past time, a clean backup taken before it must exist, and the target must be reachable
/// (in a drill: staging, never production). A failure here isolates nothing.
/// </summary>
public sealed class BreachPreflight(CleanBackupSelector selector, BreachTargets targets, TimeProvider clock)
{
    public async Task<BreachCheck> CheckAsync(string? since, bool drill, CancellationToken ct, string? incidentId = null)
    {
        var now = clock.GetUtcNow();
        var start = BreachSince.Parse(since, now);
        var choice = await selector.ChooseAsync(targets.BackupDatabase, start, ct);
        var target = await targets.DescribeAsync(drill, ct);
        return new BreachCheck(new Incident(incidentId ?? Incident.NewId(now), start, now, drill), choice, target);
    }
}
