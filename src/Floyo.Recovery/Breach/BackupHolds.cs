using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Breach;

/// <param name="Applied">False in a drill: the backups that would be held are named, and none is held.</param>
public sealed record HeldBackups(IReadOnlyList<string> Backups, IReadOnlyList<string> Objects, bool Applied = true);

/// <summary>
/// Puts every backup from the one chosen for the restore onward under legal hold (data, metadata and
/// verification records): the clean restore point, which may be older than the last backup before the
/// breach (a newer one unverified or anomalous), and everything that may show what the attacker did.
/// Retention cannot delete them until the hold is lifted by a person. Setting a hold twice is harmless.
/// A drill only names them: holds on production's backups would outlive the drill and block retention.
/// </summary>
public sealed partial class BackupHolds(BackupCatalog catalog, ILogger<BackupHolds> logger)
{
    /// <param name="chosen">The backup the restore will use (<see cref="CleanBackupSelector"/>); held with everything after it.</param>
    public async Task<HeldBackups> HoldAsync(string database, string chosen, DateTimeOffset since, CancellationToken ct, bool apply = true)
    {
        var entries = (await catalog.ListAsync(ct)).Where(e => e.Metadata.Database == database).ToList();
        var lastBefore = entries.Where(e => e.Metadata.Timestamp < since).MaxBy(e => e.Metadata.Timestamp);
        var restorePoint = entries.FirstOrDefault(e => e.Name == chosen);
        // The chosen backup is taken before --since, so it is never newer than the last one before it.
        var from = restorePoint?.Metadata.Timestamp ?? lastBefore?.Metadata.Timestamp ?? since;
        var held = entries.Where(e => e.Metadata.Timestamp >= from).OrderBy(e => e.Metadata.Timestamp).ToList();
        var objects = new List<string>();
        foreach (var entry in held)
        {
            var names = new List<string> { entry.Data.Name, entry.MetadataObject.Name };
            await foreach (var record in catalog.Store.ListAsync($"{VerificationRecord.Prefix}{entry.Name}/", ct))
            {
                names.Add(record.Name);
            }
            foreach (var name in names)
            {
                if (apply)
                {
                    await catalog.Store.SetLegalHoldAsync(name, true, ct);
                }
                objects.Add(name);
            }
        }
        if (apply)
        {
            LogHeld(logger, held.Count, objects.Count);
        }
        return new HeldBackups([.. held.Select(e => e.Name)], objects, apply);
    }

    [LoggerMessage(EventId = 6120, Level = LogLevel.Warning, Message = "Legal hold set on {Backups} backups ({Objects} objects)")]
    private static partial void LogHeld(ILogger logger, int backups, int objects);
}
