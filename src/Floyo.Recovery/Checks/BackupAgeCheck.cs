using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>The newest good (intact, not suspect) full backup is younger than CHECK_BACKUP_MAX_AGE.</summary>
public sealed class BackupAgeCheck(BackupCatalog catalog, AppHistory history, IOptions<DatabaseOptions> database, IOptions<CheckOptions> options, TimeProvider clock) : ICheck
{
    public string Name => "backup-age";

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        var db = ProtectedDatabase.Name(database);
        var limit = options.Value.BackupMaxAge;
        var scope = db is null ? "" : $" of '{db}'";
        var now = clock.GetUtcNow();
        var newest = (await catalog.ListAsync(ct)).FirstOrDefault(e => e.IsGood && e.Metadata.Type == BackupType.Full && (db is null || e.Metadata.Database == db));
        if (newest is null)
        {
            if (await history.FirstRunAsync(ct) is { } first && now - first > limit)
            {
                return CheckResult.Finding(Name, NotificationSeverity.Critical,
                    $"no good full backup{scope} in {catalog.Store.Location}, and the app has run for {CheckText.Duration(now - first)} (limit {CheckText.Duration(limit)})");
            }
            return CheckResult.Ok(Name, $"no full backup{scope} yet; this check is armed once the app has run for {CheckText.Duration(limit)}");
        }
        var age = now - newest.Metadata.Timestamp;
        var verified = newest.Verified ? "verified" : "not verified";
        return age > limit
            ? CheckResult.Finding(Name, NotificationSeverity.Critical,
                $"the newest good full backup{scope} {newest.Name} ({verified}) is {CheckText.Duration(age)} old, over CHECK_BACKUP_MAX_AGE {CheckText.Duration(limit)}", Math.Round(age.TotalSeconds), "s")
            : CheckResult.Ok(Name, $"newest good full backup{scope} {newest.Name} ({verified}) is {CheckText.Duration(age)} old (limit {CheckText.Duration(limit)})", Math.Round(age.TotalSeconds), "s");
    }
}
