using System.Globalization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Wal;
using Npgsql;

namespace Floyo.Recovery.Drills;

/// <summary>Whether a drill can recover staging to a moment from the WAL archive, and why not.</summary>
public sealed record PitrAvailability(bool Available, string Detail);

/// <param name="Backup">The dump the drill started from: what the recovered rows are counted against.</param>
/// <param name="DamagedAt">The moment just before the damage (the data-centre drill: the incident).</param>
/// <param name="PitrSource">Whose base backups and WAL archive are replayed: the primary store's, or a further copy's alone.</param>
public sealed record StagingPitrRequest(DrillBackup Backup, DateTimeOffset DamagedAt, BackupSource PitrSource = BackupSource.Primary);

/// <param name="RecoveredTo">The last transaction replayed (the target itself when none was).</param>
/// <param name="TransactionsReplayed">Transactions after the base backup's checkpoint, replayed from the archive; null when unknown.</param>
/// <param name="RowsAfterDump">Rows the recovered database holds beyond what the drill's dump recorded: written after it, recovered from the WAL.</param>
/// <param name="TablesChanged">"schema.table +N" for every table whose count differs from the dump's.</param>
public sealed record StagingPitr(
    string BaseBackup, string Database, DateTimeOffset DamagedAt, DateTimeOffset Target, DateTimeOffset RecoveredTo, ulong? TransactionsReplayed,
    long RowsAfterDump, IReadOnlyList<string> TablesChanged, IReadOnlyList<string> CreatedRoles, string Location)
{
    public string Describe() =>
        $"recovered '{Database}' from base backup {BaseBackup} and the archived WAL to {PitrPlanner.Show(RecoveredTo)}"
        + (Target < DamagedAt ? $" (the archive's end; damage at {PitrPlanner.Show(DamagedAt)})" : $" (just before the damage at {PitrPlanner.Show(DamagedAt)})")
        + $"; {(TransactionsReplayed is { } n ? n.ToString(CultureInfo.InvariantCulture) : "an unknown number of")} transactions replayed since the base backup"
        + $"; {RowsAfterDump.ToString("+#;-#;0", CultureInfo.InvariantCulture)} rows against the dump{(TablesChanged.Count > 0 ? $" ({string.Join(", ", TablesChanged.Take(5))}{(TablesChanged.Count > 5 ? ", ..." : "")})" : "")}"
        + "; the staging copy matched the recovered counts before it took the name"
        + (CreatedRoles.Count > 0 ? $"; created missing roles: {string.Join(", ", CreatedRoles)}" : "");
}

/// <summary>
/// The drills' point-in-time recovery: the newest base backup consistent before the damage and the archived WAL
/// (the primary store's, or in the data-centre drill the second copy's alone), recovered (in a private, temporary
/// cluster on this machine) to the moment just before the damage or to the archive's end if that comes first, then
/// copied onto staging through the safe restore.
/// </summary>
public sealed class DrillRecovery(BackupStores stores, BaseBackupCatalog bases, PitrPlanner planner, PitrRestorer restorer, PitrIntoRunner into)
{
    public async Task<PitrAvailability> AvailabilityAsync(CancellationToken ct)
    {
        var newest = (await bases.ListAsync(ct)).FirstOrDefault();
        if (newest is null)
        {
            return new PitrAvailability(false, $"no base backup in {stores.Primary.Location}: no WAL archive to replay; the dump is restored instead");
        }
        var major = int.Parse(newest.Metadata.ServerVersion.Split('.')[0], CultureInfo.InvariantCulture);
        return restorer.CanStartServer(major)
            ? new PitrAvailability(true, $"base backup {newest.Name} and the WAL archive in {stores.Primary.Location}")
            : new PitrAvailability(false, $"the WAL archive exists but this machine has no PostgreSQL {major} server (pg_ctl) to recover it in; the dump is restored instead");
    }

    /// <summary>
    /// Whether a further copy can be recovered from by itself. A copy without a base backup while the primary store has
    /// one is a failure (the copies are not being fed: losing the primary would lose point-in-time recovery); with no
    /// base backup anywhere, WAL archiving is simply not in use and the dump is the recovery point.
    /// </summary>
    public async Task<PitrAvailability> AvailabilityAsync(BackupSource copy, CancellationToken ct)
    {
        if (copy == BackupSource.Primary)
        {
            return await AvailabilityAsync(ct);
        }
        var which = BackupStores.Ordinal(copy);
        var store = stores.For(copy);
        var newest = (await new BaseBackupCatalog(store).ListAsync(ct)).FirstOrDefault();
        if (newest is null)
        {
            BaseBackupEntry? primaryNewest = null;
            try
            {
                primaryNewest = (await bases.ListAsync(ct)).FirstOrDefault();
            }
            catch (RecoveryException)
            {
                // The primary store is gone (what this scenario rehearses): the copy alone decides.
            }
            return primaryNewest is null
                ? new PitrAvailability(false, $"no base backup in the {which} copy {store.Location} (nor in the primary): no WAL archive to replay; the dump is the recovery point")
                : throw new RecoveryException($"the primary store holds base backup {primaryNewest.Name} but the {which} copy {store.Location} holds none: after losing the primary, point-in-time recovery would be impossible; run 'floyo-dr wal copy' and check the incremental backups' copy alerts (wal-copy:{copy.ToString().ToLowerInvariant()})");
        }
        var major = int.Parse(newest.Metadata.ServerVersion.Split('.')[0], CultureInfo.InvariantCulture);
        return restorer.CanStartServer(major)
            ? new PitrAvailability(true, $"base backup {newest.Name} and the WAL archive in the {which} copy {store.Location}")
            : new PitrAvailability(false, $"the {which} copy holds a WAL archive but this machine has no PostgreSQL {major} server (pg_ctl) to recover it in: the copy's archive is not proven by this drill");
    }

    public async Task<StagingPitr> RecoverAsync(StagingPitrRequest request, NpgsqlConnectionStringBuilder staging, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(staging);
        var dump = await new BackupCatalog(stores.For(request.Backup.Source)).FindAsync(request.Backup.Name, ct);
        var (from, sourcePlanner) = request.PitrSource == BackupSource.Primary ? (stores.Primary, planner) : restorer.PlannerOf(request.PitrSource);
        var plan = await sourcePlanner.PlanUpToAsync(request.DamagedAt, ct)
            ?? throw new NotFoundException($"no base backup in {from.Location} was consistent before {PitrPlanner.Show(request.DamagedAt)}");
        // Under /tmp, not FLOYO_WORK_DIR: the server's own user must reach it.
        var dataDir = Path.Combine(Path.GetTempPath(), $"floyo-drill-pitr-{Guid.NewGuid().ToString("N")[..10]}");
        var done = await into.RunAsync(
            new PitrIntoRequest(new PitrRequest(plan.Target, dataDir, null, Start: true, Source: request.PitrSource), dump.Metadata.Database, staging.Database, DropExisting: true, KeepDataDirectory: false),
            ct, staging);
        var before = dump.Metadata.Facts.Tables.ToDictionary(t => t.QualifiedName, t => t.Rows, StringComparer.Ordinal);
        var changed = done.Facts.Tables
            .Select(t => (t.QualifiedName, Delta: t.Rows - before.GetValueOrDefault(t.QualifiedName)))
            .Where(t => t.Delta != 0)
            .OrderByDescending(t => Math.Abs(t.Delta))
            .ToList();
        var lost = before.Keys.Except(done.Facts.Tables.Select(t => t.QualifiedName), StringComparer.Ordinal).Sum(name => before[name]);
        return new StagingPitr(done.Pitr.BaseBackup, dump.Metadata.Database, request.DamagedAt, plan.Target, done.Pitr.RecoveredTo ?? plan.Target, done.TransactionsReplayed,
            changed.Sum(t => t.Delta) - lost, [.. changed.Select(t => $"{t.QualifiedName} {t.Delta.ToString("+#;-#;0", CultureInfo.InvariantCulture)}")],
            done.Restore.CreatedRoles, from.Location);
    }
}
