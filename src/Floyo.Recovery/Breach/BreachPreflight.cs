using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Breach;

public sealed record BreachCheck(Incident Incident, CleanBackupChoice Backup);

/// <summary>
/// Everything that can reject a breach recovery, checked before anything is changed: --since must be a
/// real, zoned, past time, and a clean backup taken before it must exist. A failure here isolates nothing.
/// </summary>
public sealed class BreachPreflight(CleanBackupSelector selector, IOptions<DatabaseOptions> database, TimeProvider clock)
{
    public async Task<BreachCheck> CheckAsync(string? since, bool drill, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var start = BreachSince.Parse(since, now);
        var name = DatabaseUrl.Parse(database.Value.DatabaseUrl).Database!;
        var choice = await selector.ChooseAsync(name, start, ct);
        return new BreachCheck(new Incident(Incident.NewId(now), start, now, drill), choice);
    }
}
