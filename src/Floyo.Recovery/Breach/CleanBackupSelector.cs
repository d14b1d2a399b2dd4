using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Breach;

/// <summary>The backup a breach recovery restores, and why the newer ones were passed over.</summary>
public sealed record CleanBackupChoice(string Backup, DateTimeOffset Timestamp, string Database, DateTimeOffset? VerifiedAt, IReadOnlyList<string> PassedOver);

/// <summary>
/// Chooses the newest backup taken before the breach that is complete, verified and not flagged by anomaly
/// detection (<see cref="BackupEntry.IsSuspect"/>: rows or size fell sharply, or the data stopped
/// compressing, and nobody has accepted it since). A backup the attacker may have shaped is never "clean".
/// </summary>
public sealed class CleanBackupSelector(BackupCatalog catalog)
{
    public async Task<CleanBackupChoice> ChooseAsync(string database, DateTimeOffset since, CancellationToken ct)
    {
        var all = (await catalog.ListAsync(ct)).Where(b => b.Metadata.Database == database).ToList();
        if (all.Count == 0)
        {
            throw new NotFoundException($"there are no backups of '{database}' in {catalog.Store.Location}; there is nothing clean to restore");
        }
        var before = all.Where(b => b.Metadata.Timestamp < since).ToList();
        if (before.Count == 0)
        {
            var oldest = all.MinBy(b => b.Metadata.Timestamp)!;
            throw new NotFoundException(
                $"--since {BreachSince.Format(since)} is before every backup of '{database}' (the oldest is {oldest.Name}); there is no clean backup to restore");
        }
        var passedOver = new List<string>();
        foreach (var entry in before)
        {
            if (!entry.IsValid)
            {
                passedOver.Add($"{entry.Name}: invalid ({string.Join("; ", entry.Problems)})");
                continue;
            }
            if (entry.IsSuspect)
            {
                passedOver.Add($"{entry.Name}: anomalous ({string.Join("; ", entry.Metadata.Anomalies)})");
                continue;
            }
            if (!entry.Verified)
            {
                passedOver.Add($"{entry.Name}: {(entry.LastVerification is null ? "never verified" : "verification failed")}");
                continue;
            }
            return new CleanBackupChoice(entry.Name, entry.Metadata.Timestamp, database, entry.LastVerification?.Timestamp, passedOver);
        }
        throw new NotFoundException(
            $"none of the {before.Count} backups of '{database}' taken before {BreachSince.Format(since)} is verified and clean (newest: {passedOver[0]}); verify one with 'floyo-dr verify'");
    }
}
