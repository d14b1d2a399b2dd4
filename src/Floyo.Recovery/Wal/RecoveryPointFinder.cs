using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>
/// The recovery point as it really is: the later of the time the newest continuously archived WAL segment
/// (since the newest base backup) reached the store, and the newest verified dump. A gap stops the WAL point at
/// the last continuous segment, and is named in <see cref="Finding"/>.
/// </summary>
public sealed record RecoveryPoint(DateTimeOffset? Time, string Source, string? DumpBackup, DateTimeOffset? DumpTime, DateTimeOffset? WalTime, string? Finding)
{
    public static readonly RecoveryPoint None = new(null, "none", null, null, null, null);

    /// <summary>Every finding (a gap in the archive, a failing or stopped archiver, a slot retaining too much WAL); <see cref="Finding"/> joins them.</summary>
    public IReadOnlyList<string> Findings { get; init; } = Finding is null ? [] : [Finding];

    /// <summary>Each further copy's WAL lag, when the finder was given the copies (the primary's listing); empty otherwise.</summary>
    public IReadOnlyList<WalCopyState> Copies { get; init; } = [];
}

/// <summary>
/// Finds the <see cref="RecoveryPoint"/> of one store; reads only. With <paramref name="health"/> (the primary
/// store, where the protected server is known) the server's archiver and replication slots are checked too,
/// whenever the store holds a base backup or pull mode is configured; with <paramref name="copies"/> the further
/// copies' WAL lag too (a copy far behind is a finding: the plan's data-centre outage would lose more).
/// </summary>
public sealed class RecoveryPointFinder(BackupCatalog catalog, ArchiveHealthProbe? health = null, IOptions<WalOptions>? wal = null, WalCopyLagProbe? copies = null)
{
    public async Task<RecoveryPoint> FindAsync(string? database, CancellationToken ct)
    {
        var dump = await catalog.LatestVerifiedAsync(database, ct);
        var (walTime, walSource, gap, hasBase) = await WalPointAsync(ct);
        var findings = new List<string>();
        if (gap is not null)
        {
            findings.Add(gap);
        }
        if (health is not null && (hasBase || !string.IsNullOrWhiteSpace(wal?.Value.ReceiveSlot)))
        {
            findings.AddRange(await health.FindingsAsync(ct));
        }
        IReadOnlyList<WalCopyState> copyStates = copies is null ? [] : await copies.StatesAsync(ct);
        findings.AddRange(copyStates.Select(c => c.Finding).OfType<string>());
        var finding = findings.Count == 0 ? null : string.Join("; ", findings);
        var dumpTime = dump?.Metadata.Timestamp;
        if (walTime is { } w && (dumpTime is null || w > dumpTime))
        {
            return new RecoveryPoint(w, walSource!, dump?.Name, dumpTime, walTime, finding) { Findings = findings, Copies = copyStates };
        }
        return dump is null
            ? RecoveryPoint.None with { WalTime = walTime, Finding = finding, Findings = findings, Copies = copyStates }
            : new RecoveryPoint(dumpTime, $"verified dump {dump.Name}", dump.Name, dumpTime, walTime, finding) { Findings = findings, Copies = copyStates };
    }

    /// <summary>When the last segment continuous from the newest base backup reached the store; null without a base backup.</summary>
    private async Task<(DateTimeOffset? Time, string? Source, string? Finding, bool HasBase)> WalPointAsync(CancellationToken ct)
    {
        var store = catalog.Store;
        var newest = (await new BaseBackupCatalog(store).ListAsync(ct)).FirstOrDefault();
        if (newest is null)
        {
            return (null, null, null, false);
        }
        // Only the store is read: the archive's options and log are not used on this path.
        var archive = new WalArchive(store, Options.Create(new BackupOptions()), TimeProvider.System, NullLogger<WalArchive>.Instance);
        var report = await new WalContinuity(archive, new BaseBackupCatalog(store)).CheckFromAsync(newest.Metadata, ct);
        var finding = report.Continuous ? null : report.Problems[0];
        if (report.LastContiguous is null)
        {
            return (newest.Metadata.StopTime, $"base backup {newest.Name} (no WAL archived after it)", finding, true);
        }
        var record = (await WalArchiveRecord.ReadAsync(store, report.LastContiguous, ct)).Value;
        var time = record?.ArchivedAt is { } at && at > newest.Metadata.StopTime ? at : newest.Metadata.StopTime;
        return (time, $"WAL archive continuous to {report.LastContiguous} from {newest.Name}", finding, true);
    }
}
