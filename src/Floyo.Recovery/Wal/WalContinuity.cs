using System.Globalization;
using System.Text;

namespace Floyo.Recovery.Wal;

/// <summary>What <c>wal verify</c> found: the archive is continuous from the base backup's first segment to the newest, or the first gap.</summary>
public sealed record WalContinuityReport(
    string? BaseBackup,
    string? FirstSegment,
    string? LastSegment,
    int Segments,
    string? FirstGap,
    string? LastContiguous,
    IReadOnlyList<string> Problems)
{
    public bool Continuous => Problems.Count == 0;
}

/// <summary>
/// Proves the archive continuous from the newest base backup to the newest segment: every segment from
/// the backup's start, on the timeline PostgreSQL would read it from (following the archived .history
/// files to the newest timeline descending from the backup's), with no gap.
/// </summary>
public sealed class WalContinuity(WalArchive archive, BaseBackupCatalog bases)
{
    public async Task<WalContinuityReport> CheckAsync(CancellationToken ct)
    {
        var newest = (await bases.ListAsync(ct)).FirstOrDefault();
        if (newest is null)
        {
            return new(null, null, null, 0, null, null, ["no base backup in the store: take one with 'floyo-dr backup --base'"]);
        }
        return await CheckFromAsync(newest.Metadata, ct);
    }

    public async Task<WalContinuityReport> CheckFromAsync(BaseBackupMetadata start, CancellationToken ct)
    {
        var size = start.WalSegmentSize > 0 ? start.WalSegmentSize : WalFileName.DefaultSegmentSize;
        var archived = await archive.ListAsync(ct);
        var names = archived.Keys.Select(n => WalFileName.TryParse(n, size, out var f) ? f : null).OfType<WalFileName>().ToList();
        var segments = names.Where(n => n.Kind == WalFileKind.Segment).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var chain = await TimelineChainAsync(start.Timeline, names, size, ct);
        var problems = new List<string>();

        // Timelines in the archive that do not descend from the backup's: a promotion without its history file.
        var chainTimelines = chain.Select(c => c.Timeline).ToHashSet();
        var stray = names.Where(n => n.Kind == WalFileKind.Segment && n.Timeline > start.Timeline && !chainTimelines.Contains(n.Timeline))
            .Select(n => n.Timeline).Distinct().Order().ToList();
        foreach (var timeline in stray)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"timeline break: segments on timeline {timeline} but no archived {timeline:X8}.history linking it to timeline {start.Timeline} of the base backup"));
        }

        var first = WalFileName.SegmentOf(start.StartLsn, size);
        var candidates = names.Where(n => n.Kind == WalFileKind.Segment && chainTimelines.Contains(n.Timeline) && n.SegmentNumber >= first).ToList();
        var last = candidates.Count == 0 ? first : candidates.Max(n => n.SegmentNumber);
        string? firstGap = null, lastContiguous = null;
        var count = 0;
        for (var segment = first; segment <= last; segment++)
        {
            var expected = WalFileName.SegmentName(TimelineFor(chain, segment, size), segment, size);
            if (!segments.Contains(expected))
            {
                firstGap = expected;
                problems.Insert(0, $"gap: {expected} is missing from the archive; recovery cannot pass it (last continuous segment: {lastContiguous ?? "none"})");
                break;
            }
            lastContiguous = expected;
            count++;
        }
        return new(start.Name, WalFileName.SegmentName(start.Timeline, first, size), WalFileName.SegmentName(TimelineFor(chain, last, size), last, size),
            count, firstGap, lastContiguous, problems);
    }

    /// <summary>The timeline holding <paramref name="segment"/>: a timeline's own copy of the segment its successor branched in is superseded by the successor's.</summary>
    private static uint TimelineFor(IReadOnlyList<(uint Timeline, ulong? SwitchLsn)> chain, ulong segment, long size)
    {
        foreach (var (timeline, switchLsn) in chain)
        {
            if (switchLsn is null || segment < switchLsn.Value / (ulong)size)
            {
                return timeline;
            }
        }
        return chain[^1].Timeline;
    }

    /// <summary>From the backup's timeline to the newest archived timeline that descends from it, with each one's switch point.</summary>
    private async Task<IReadOnlyList<(uint Timeline, ulong? SwitchLsn)>> TimelineChainAsync(uint baseTimeline, List<WalFileName> names, long size, CancellationToken ct)
    {
        foreach (var history in names.Where(n => n.Kind == WalFileKind.History && n.Timeline > baseTimeline).OrderByDescending(n => n.Timeline))
        {
            var content = await archive.ReadAsync(history.Name, ct);
            if (content is null)
            {
                continue;
            }
            // Each line: parent timeline, switch point (LSN), reason.
            var switches = new List<(uint Timeline, ulong Lsn)>();
            foreach (var line in Encoding.UTF8.GetString(content).Split('\n'))
            {
                var fields = line.Split('\t', ' ').Where(f => f.Length > 0).ToArray();
                if (fields.Length >= 2 && !fields[0].StartsWith('#') && uint.TryParse(fields[0], CultureInfo.InvariantCulture, out var parent))
                {
                    switches.Add((parent, WalFileName.ParseLsn(fields[1])));
                }
            }
            var from = switches.FindIndex(s => s.Timeline == baseTimeline);
            if (from >= 0)
            {
                var chain = switches.Skip(from).Select(s => (s.Timeline, (ulong?)s.Lsn)).ToList();
                chain.Add((history.Timeline, null));
                return chain;
            }
        }
        return [(baseTimeline, null)];
    }
}
