using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Retention;

public sealed record RetentionDecision(string Backup, string Database, DateTimeOffset Timestamp, bool Delete, string Reason);

public sealed record RetentionPlan(IReadOnlyList<RetentionDecision> Decisions, IReadOnlyList<string> Orphans)
{
    public IEnumerable<RetentionDecision> Deletions => Decisions.Where(d => d.Delete);

    /// <summary>What limited retention or should worry its reader: nothing verified, records ignored as damaged.</summary>
    public IReadOnlyList<string> Findings { get; init; } = [];
}

/// <summary>
/// Decides what retention removes: full backups past BACKUP_RETENTION_DAYS and incremental ones past
/// their own limit, except the newest verified full backup of each database and anything held or still
/// retained by the store. When no full backup of a database is verified (verification broken for a
/// month, say), its newest good one is kept instead, and the plan says so: retention never leaves a
/// database with no backup because verification stopped. A suspect (anomalous, unaccepted) backup never
/// counts as that newest good one. Data objects whose metadata never arrived (a crash between the two) go too.
/// </summary>
public sealed partial class RetentionPlanner(BackupCatalog catalog, IOptions<BackupOptions> options, TimeProvider clock, ILogger<RetentionPlanner>? logger = null)
{
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromHours(6);

    public async Task<RetentionPlan> PlanAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var listing = await catalog.ListWithFindingsAsync(ct);
        var entries = listing.Entries;
        var (decisions, limits) = Decide(entries, options.Value, now);
        foreach (var limit in limits)
        {
            LogLimited(logger ?? NullLogger<RetentionPlanner>.Instance, limit);
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
        return new RetentionPlan(decisions, orphans) { Findings = [.. limits, .. listing.Findings.Select(f => f.ToString())] };
    }

    /// <summary>The decision for every backup (pure: the catalogue's entries, the settings and the time), and what limited it.</summary>
    public static (IReadOnlyList<RetentionDecision> Decisions, IReadOnlyList<string> Findings) Decide(IReadOnlyList<BackupEntry> entries, BackupOptions settings, DateTimeOffset now)
    {
        var keepVerified = new HashSet<string>(StringComparer.Ordinal);
        var keepUnverified = new HashSet<string>(StringComparer.Ordinal);
        var findings = new List<string>();
        foreach (var database in entries.Where(e => e.Metadata.Type == BackupType.Full).GroupBy(e => e.Metadata.Database).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var good = database.Where(e => e.IsGood).OrderByDescending(e => e.Metadata.Timestamp).ThenByDescending(e => e.Name, StringComparer.Ordinal).ToList();
            if (good.FirstOrDefault(e => e.Verified) is { } verified)
            {
                keepVerified.Add(verified.Name);
            }
            else if (good.FirstOrDefault(e => !string.IsNullOrEmpty(e.Metadata.Sha256)) is { } newest)
            {
                keepUnverified.Add(newest.Name);
                findings.Add($"retention limited for '{database.Key}': none of its full backups is verified, so its newest good one ({newest.Name}) is kept whatever its age; fix verification (floyo-dr verify --latest)");
            }
            else
            {
                findings.Add($"'{database.Key}' has no verified or good full backup with a recorded checksum: retention protects none of its backups beyond their age");
            }
        }

        var decisions = new List<RetentionDecision>();
        foreach (var entry in entries)
        {
            var meta = entry.Metadata;
            var days = meta.Type == BackupType.Full ? settings.RetentionDays : settings.IncrementalRetentionDays;
            var age = now - meta.Timestamp;
            var (delete, reason) = true switch
            {
                _ when age < TimeSpan.FromDays(days) => (false, $"within {days}-day retention"),
                _ when keepVerified.Contains(entry.Name) => (false, "newest verified full backup of its database"),
                _ when keepUnverified.Contains(entry.Name) => (false, "newest good full backup of its database; none is verified"),
                _ when entry.LegalHold => (false, "legal hold"),
                _ when entry.Data.IsProtected(now) || entry.MetadataObject.IsProtected(now) => (false, "still under the store's immutability policy"),
                _ => (true, $"older than {days} days"),
            };
            decisions.Add(new RetentionDecision(entry.Name, meta.Database, meta.Timestamp, delete, reason));
        }
        return (decisions, findings);
    }

    [LoggerMessage(EventId = 6402, Level = LogLevel.Warning, Message = "Retention: {Finding}")]
    private static partial void LogLimited(ILogger logger, string finding);

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
