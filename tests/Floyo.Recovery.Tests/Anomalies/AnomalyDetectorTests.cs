using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Backups;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Tests.Anomalies;

/// <summary>The detector's rules on fabricated catalogue entries: what a gutted or encrypted database looks like next to its baseline.</summary>
[Trait("Tier", "Fast")]
public sealed class AnomalyDetectorTests
{
    private static readonly DateTimeOffset At = new(2030, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AnomalyDetector Detector = new(Options.Create(new AnomalyOptions()));

    private static DatabaseFacts Facts(params (string Table, long Rows)[] tables) =>
        new("15.0", 150000, new DatabaseProperties("owner", "UTF8", "C", "C"), [.. tables.Select(t => new TableRows("public", t.Table, "table", t.Rows))],
            new Dictionary<string, long>(), [], []);

    private static BackupEntry Baseline(DatabaseFacts facts, long dumpBytes = 10_000, long storedBytes = 10_000, string compression = "none", bool? verified = true, IReadOnlyList<string>? anomalies = null, DateTimeOffset? at = null)
    {
        var entry = FabricatedBackups.Entry("shop", at ?? At, verified, anomalies: anomalies);
        return entry with { Metadata = entry.Metadata with { Facts = facts, DumpBytes = dumpBytes, SizeBytes = storedBytes, Compression = compression } };
    }

    [Fact]
    public void Without_a_baseline_nothing_is_flagged()
    {
        Assert.Empty(Detector.Detect("shop", 10, 10, Facts(("users", 0)), []));
        Assert.Empty(Detector.Detect("shop", 10, 10, Facts(("users", 0)), [Baseline(Facts(("users", 5000))) with { Problems = ["damaged"] }]));
    }

    [Fact]
    public void A_table_that_lost_most_of_its_rows_or_vanished_is_flagged()
    {
        var baseline = Baseline(Facts(("users", 5000), ("audit", 1000), ("tiny", 50)));
        var findings = Detector.Detect("shop", 10_000, 10_000, Facts(("users", 500), ("tiny", 0)), [baseline]);
        Assert.Equal(2, findings.Count);
        Assert.Contains($"table public.users fell from 5000 to 500 rows since {baseline.Name}", findings);
        Assert.Contains($"table public.audit (1000 rows in {baseline.Name}) is gone", findings);
    }

    [Fact]
    public void A_drop_at_the_ratio_or_under_the_minimum_rows_is_noise()
    {
        var baseline = Baseline(Facts(("users", 1000), ("small", 99)));
        Assert.Empty(Detector.Detect("shop", 10_000, 10_000, Facts(("users", 500), ("small", 0)), [baseline]));
    }

    [Fact]
    public void A_shrunken_dump_is_flagged()
    {
        var baseline = Baseline(Facts(), dumpBytes: 10_000);
        var findings = Detector.Detect("shop", 4_999, 4_999, Facts(), [baseline]);
        Assert.Equal([$"the dump shrank from 10000 to 4999 bytes since {baseline.Name}"], findings);
    }

    [Fact]
    public void Data_that_stops_compressing_may_have_been_encrypted()
    {
        var baseline = Baseline(Facts(), dumpBytes: 4 << 20, storedBytes: 1 << 20, compression: "zstd");
        var findings = Detector.Detect("shop", 4 << 20, 3 << 20, Facts(), [baseline]);
        var finding = Assert.Single(findings);
        Assert.StartsWith("the data no longer compresses (75", finding, StringComparison.Ordinal);
        Assert.EndsWith($"in {baseline.Name}): it may have been encrypted", finding, StringComparison.Ordinal);
        Assert.Empty(Detector.Detect("shop", 4 << 20, 1 << 20, Facts(), [baseline]));
    }

    [Fact]
    public void The_baseline_is_the_newest_verified_good_backup_of_the_same_database()
    {
        var verified = Baseline(Facts(("users", 5000)), at: At.AddDays(-2));
        var newerUnverified = Baseline(Facts(("users", 600)), verified: null, at: At.AddDays(-1));
        var suspect = Baseline(Facts(("users", 10)), anomalies: ["flagged"], at: At);
        var other = FabricatedBackups.Entry("other", At);
        var findings = Detector.Detect("shop", 10_000, 10_000, Facts(("users", 550)), [suspect, newerUnverified, verified, other]);
        Assert.Equal([$"table public.users fell from 5000 to 550 rows since {verified.Name}"], findings);
    }
}
