using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Backups;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Retention;

/// <summary>
/// Issue 10, item 13: when verification has been broken for a month, retention must not delete every
/// backup. The planner is tested pure (fabricated catalogue entries), then once through a real store and floyo-dr.
/// </summary>
public sealed class RetentionWithoutVerificationTests
{
    private static readonly DateTimeOffset Now = new(2030, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly BackupOptions Settings = new() { RetentionDays = 30, IncrementalRetentionDays = 7 };

    private static RetentionDecision For(IReadOnlyList<RetentionDecision> decisions, BackupEntry entry) => decisions.Single(d => d.Backup == entry.Name);

    [Trait("Tier", "Fast")]
    [Fact]
    public void Nothing_verified_keeps_the_newest_good_full_backup_and_says_retention_was_limited()
    {
        var oldest = FabricatedBackups.Entry("shop", Now.AddDays(-60));
        var middle = FabricatedBackups.Entry("shop", Now.AddDays(-50));
        var suspect = FabricatedBackups.Entry("shop", Now.AddDays(-40), anomalies: ["public.users: 100 rows became 0"]);
        var noChecksum = FabricatedBackups.Entry("shop", Now.AddDays(-35), sha256: "");

        var (decisions, findings) = RetentionPlanner.Decide([noChecksum, suspect, middle, oldest], Settings, Now);

        Assert.False(For(decisions, middle).Delete);
        Assert.Equal("newest good full backup of its database; none is verified", For(decisions, middle).Reason);
        Assert.True(For(decisions, oldest).Delete);
        Assert.True(For(decisions, suspect).Delete, "a suspect backup is never the one kept");
        Assert.True(For(decisions, noChecksum).Delete, "a backup without a recorded checksum proves nothing");
        var finding = Assert.Single(findings);
        Assert.Contains("retention limited for 'shop'", finding, StringComparison.Ordinal);
        Assert.Contains(middle.Name, finding, StringComparison.Ordinal);
    }

    [Trait("Tier", "Fast")]
    [Fact]
    public void A_verified_backup_is_still_the_one_kept_and_each_database_is_judged_alone()
    {
        var verified = FabricatedBackups.Entry("shop", Now.AddDays(-60), verified: true);
        var newerUnverified = FabricatedBackups.Entry("shop", Now.AddDays(-45));
        var failedOnly = FabricatedBackups.Entry("crm", Now.AddDays(-45), verified: false);
        var olderCrm = FabricatedBackups.Entry("crm", Now.AddDays(-55));
        var incremental = FabricatedBackups.Entry("crm", Now.AddDays(-10), type: BackupType.Incremental);

        var (decisions, findings) = RetentionPlanner.Decide([incremental, newerUnverified, failedOnly, olderCrm, verified], Settings, Now);

        Assert.Equal("newest verified full backup of its database", For(decisions, verified).Reason);
        Assert.True(For(decisions, newerUnverified).Delete);
        Assert.False(For(decisions, failedOnly).Delete, "crm has nothing verified: its newest good full backup stays");
        Assert.True(For(decisions, olderCrm).Delete);
        Assert.True(For(decisions, incremental).Delete, "incremental backups never stand in for a full one");
        Assert.Contains("'crm'", Assert.Single(findings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cleanup_through_the_store_keeps_the_newest_backup_when_nothing_is_verified()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var now = DateTimeOffset.UtcNow;
        var at = new DateTimeOffset(now.Year, now.Month, now.Day, 2, 0, 0, TimeSpan.Zero);
        var names = new List<string>();
        foreach (var days in new[] { 60, 50, 40 })
        {
            names.Add((await FabricatedBackups.WriteAsync(store, "shop", at.AddDays(-days))).Name);
        }

        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path }, "cleanup", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        var left = Directory.GetFiles(dir.Path, "*.meta.json").Select(Path.GetFileName).ToList();
        Assert.Equal([BackupName.MetadataOf(names[^1])], left);
        Assert.True(File.Exists(Path.Combine(dir.Path, names[^1])));

        var plan = JsonDocument.Parse(run.StdOut).RootElement;
        Assert.Contains("retention limited for 'shop'", plan.GetProperty("findings")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("retention limited", run.StdErr, StringComparison.Ordinal);
    }
}
