using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Retention;

public sealed record RetentionDecision(string Backup, string Database, DateTimeOffset Timestamp, bool Delete, string Reason);

public sealed record RetentionPlan(IReadOnlyList<RetentionDecision> Decisions, IReadOnlyList<string> Orphans)
{
    public IEnumerable<RetentionDecision> Deletions => Decisions.Where(d => d.Delete);
}

/// <summary>
/// Decides what retention removes: full backups past BACKUP_RETENTION_DAYS and incremental ones past
/// their own limit, except the newest verified full backup of each database and anything held or still
/// retained by the store. A suspect (anomalous, unaccepted) backup never counts as that newest good
/// one. Data objects whose metadata never arrived (a crash between the two) go too.
/// </summary>
public sealed class RetentionPlanner(BackupCatalog catalog, IOptions<BackupOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromHours(6);

    public async Task<RetentionPlan> PlanAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var entries = await catalog.ListAsync(ct);
        var keepNewest = entries
            .Where(e => e.Metadata.Type == "full" && e.IsGood && e.Verified)
            .GroupBy(e => e.Metadata.Database)
            .Select(g => g.First().Name)
            .ToHashSet(StringComparer.Ordinal);

        var decisions = new List<RetentionDecision>();
        foreach (var entry in entries)
        {
            var meta = entry.Metadata;
            var days = meta.Type == "full" ? options.Value.RetentionDays : options.Value.IncrementalRetentionDays;
            var age = now - meta.Timestamp;
            var (delete, reason) = true switch
            {
                _ when age < TimeSpan.FromDays(days) => (false, $"within {days}-day retention"),
                _ when keepNewest.Contains(entry.Name) => (false, "newest verified full backup of its database"),
                _ when entry.LegalHold => (false, "legal hold"),
                _ when entry.Data.IsProtected(now) || entry.MetadataObject.IsProtected(now) => (false, "still under the store's immutability policy"),
                _ => (true, $"older than {days} days"),
            };
            decisions.Add(new RetentionDecision(entry.Name, meta.Database, meta.Timestamp, delete, reason));
        }

        var known = entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var orphans = new List<string>();
        await foreach (var item in catalog.Store.ListAsync("", ct))
        {
            if (!item.Name.Contains('/', StringComparison.Ordinal) && BackupName.LooksLikeBackup(item.Name)
                && !known.Contains(item.Name) && now - item.LastModified > OrphanGrace && !item.IsProtected(now)
                && await catalog.Store.GetAsync(BackupName.MetadataOf(item.Name), ct) is null)
            {
                orphans.Add(item.Name);
            }
        }
        return new RetentionPlan(decisions, orphans);
    }

    /// <summary>Deletes the plan's backups: metadata first, so a half-deleted backup is never listed.</summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(RetentionPlan plan, CancellationToken ct)
    {
        var failures = new List<string>();
        foreach (var decision in plan.Deletions)
        {
            try
            {
                await catalog.Store.DeleteAsync(BackupName.MetadataOf(decision.Backup), ct);
                await catalog.Store.DeleteAsync(decision.Backup, ct);
                foreach (var prefix in new[] { VerificationRecord.Prefix, "copies/" })
                {
                    await foreach (var record in catalog.Store.ListAsync($"{prefix}{decision.Backup}/", ct))
                    {
                        await catalog.Store.DeleteAsync(record.Name, ct);
                    }
                }
            }
            catch (ObjectProtectedException e)
            {
                failures.Add(e.Message);
            }
        }
        foreach (var orphan in plan.Orphans)
        {
            try
            {
                await catalog.Store.DeleteAsync(orphan, ct);
            }
            catch (ObjectProtectedException e)
            {
                failures.Add(e.Message);
            }
        }
        return failures;
    }
}
