using System.Globalization;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>Retention of base backups and WAL: every base backup within BACKUP_RETENTION_DAYS plus the newest, and every WAL file they need.</summary>
[Trait("Tier", "Fast")]
public sealed class WalRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly BackupOptions Settings = new() { RetentionDays = 30, IncrementalRetentionDays = 7 };

    /// <summary>A base backup that became consistent <paramref name="daysAgo"/> days ago, starting in segment <paramref name="segment"/> (16 MiB segments).</summary>
    internal static BaseBackupMetadata Base(double daysAgo, ulong segment, uint timeline = 1)
    {
        var start = string.Create(CultureInfo.InvariantCulture, $"{segment * 16 * 1024 * 1024 >> 32:X}/{(segment * 16 * 1024 * 1024) & 0xFFFFFFFF:X}");
        var time = Now.AddDays(-daysAgo);
        return new BaseBackupMetadata(1, $"base/base_{time.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}.tar.zst", time.AddMinutes(-1), time, start, start, timeline,
            WalFileName.SegmentName(timeline, segment), WalFileName.DefaultSegmentSize, "db:5432", "15", null, 1, 1, "zstd", "00", true, 1, time.AddDays(30));
    }

    private static IEnumerable<string> Segments(uint timeline, ulong from, ulong to)
    {
        for (var s = from; s <= to; s++)
        {
            yield return WalFileName.SegmentName(timeline, s);
        }
    }

    [Fact]
    public void Keeps_every_base_backup_within_retention_and_every_segment_from_the_oldest_kept_start_and_deletes_the_rest()
    {
        // 45 and 35 days old: expired; 20 and 2 days old: kept. The oldest kept starts in segment 0x30.
        var bases = new[] { Base(45, 0x10), Base(35, 0x20), Base(20, 0x30), Base(2, 0x50) };
        var wal = Segments(1, 0x10, 0x60).Append("00000002.history").Append("000000010000000000000020.00000028.backup").Append("00000001000000000000002F.partial").ToList();

        var plan = WalRetention.Decide(bases, wal, [], Settings, Now);

        Assert.Equal([bases[2].Name, bases[3].Name], plan.KeptBases.Order(StringComparer.Ordinal));
        Assert.Equal([bases[0].Name, bases[1].Name], plan.DeletedBases.Order(StringComparer.Ordinal));
        Assert.Equal("000000010000000000000030", plan.OldestNeededSegment);
        Assert.Equal(Segments(1, 0x10, 0x2F).Append("000000010000000000000020.00000028.backup").Append("00000001000000000000002F.partial").Order(StringComparer.Ordinal), plan.DeletedWal);
        // Never a segment a kept base backup needs, and never a timeline history.
        Assert.DoesNotContain(plan.DeletedWal, w => string.CompareOrdinal(w[..24], "000000010000000000000030") >= 0);
        Assert.DoesNotContain("00000002.history", plan.DeletedWal);
    }

    [Fact]
    public void The_newest_base_backup_is_kept_however_old_and_with_it_all_its_wal_on_every_timeline()
    {
        var bases = new[] { Base(90, 0x10), Base(60, 0x40) };
        var wal = Segments(1, 0x10, 0x48).Concat(Segments(2, 0x45, 0x50)).ToList();

        var plan = WalRetention.Decide(bases, wal, [], Settings, Now);

        Assert.Equal([bases[1].Name], plan.KeptBases);
        Assert.Equal([bases[0].Name], plan.DeletedBases);
        Assert.Equal(Segments(1, 0x10, 0x3F), plan.DeletedWal);
    }

    [Fact]
    public void With_no_base_backup_nothing_in_the_archive_is_deleted()
    {
        var plan = WalRetention.Decide([], Segments(1, 1, 9).ToList(), [], Settings, Now);
        Assert.Equal(0, plan.Deletions);
    }

    [Fact]
    public void Incremental_records_go_after_the_incremental_retention_or_with_their_base_backup()
    {
        var bases = new[] { Base(45, 0x10), Base(2, 0x50) };
        IncrementalBackupRecord Inc(string name, double daysAgo, BaseBackupMetadata of) =>
            new(1, $"base/incremental_{name}.json", of.Name, 1, "0/0", "0/0", "a", "b", 1, Now.AddDays(-daysAgo - 0.25), Now.AddDays(-daysAgo), "db:5432", 1, Now);
        var incrementals = new[] { Inc("old", 40, bases[0]), Inc("expired", 8, bases[1]), Inc("recent", 1, bases[1]) };

        var plan = WalRetention.Decide(bases, [], incrementals, Settings, Now);

        Assert.Equal(["base/incremental_expired.json", "base/incremental_old.json"], plan.DeletedIncrementals);
    }

    [Fact]
    public async Task Through_the_filesystem_store_old_base_backups_and_unneeded_wal_are_deleted_and_what_recovery_needs_stays()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(Path.Combine(dir.Path, "store"));
        var old = Base(40, 0x10);
        var kept = Base(3, 0x13);
        foreach (var meta in new[] { old, kept })
        {
            await store.WriteAllAsync(meta.Name, new byte[] { 1 }, new ObjectRetention(Now.AddDays(-1)), default);
            await store.WriteAllAsync(BaseBackupCatalog.MetadataOf(meta.Name), meta.ToJson(), new ObjectRetention(Now.AddDays(-1)), default);
        }
        var archive = new WalArchive(store, Options.Create(Settings), new FakeTimeProvider(Now), NullLogger<WalArchive>.Instance);
        var source = Path.Combine(dir.Path, "pg_wal");
        Directory.CreateDirectory(source);
        foreach (var name in Segments(1, 0x10, 0x16).Append("00000002.history"))
        {
            await File.WriteAllTextAsync(Path.Combine(source, name), name);
            await archive.PushAsync(Path.Combine(source, name), default);
        }
        var retention = new WalRetention(Options.Create(Settings), new FakeTimeProvider(Now));

        var plan = await retention.PlanAsync(store, default);
        var failures = await WalRetention.ApplyAsync(store, plan, default);

        Assert.Empty(failures);
        Assert.Equal([old.Name], plan.DeletedBases);
        var left = await archive.ListAsync(default);
        Assert.Equal(Segments(1, 0x13, 0x16).Append("00000002.history").Order(StringComparer.Ordinal), left.Keys.Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(dir.Path, "store", "wal", "000000010000000000000012.zst")));
        var bases = await new BaseBackupCatalog(store).ListAsync(default);
        Assert.Equal(kept.Name, Assert.Single(bases).Name);
        // The kept base backup is still continuous to the newest segment.
        var report = await new WalContinuity(archive, new BaseBackupCatalog(store)).CheckAsync(default);
        Assert.True(report.Continuous, string.Join("; ", report.Problems));
        Assert.Equal("000000010000000000000016", report.LastContiguous);
    }

    /// <summary>Base backups and WAL segments written into a filesystem store as the archive writes them.</summary>
    private static async Task PopulateAsync(string root, string work, BaseBackupMetadata[] bases, IEnumerable<string> wal)
    {
        var store = new FilesystemStore(root);
        foreach (var meta in bases)
        {
            await store.WriteAllAsync(meta.Name, new byte[] { 1 }, new ObjectRetention(Now.AddDays(-1)), default);
            await store.WriteAllAsync(BaseBackupCatalog.MetadataOf(meta.Name), meta.ToJson(), new ObjectRetention(Now.AddDays(-1)), default);
        }
        var archive = new WalArchive(store, Options.Create(Settings), new FakeTimeProvider(Now), NullLogger<WalArchive>.Instance);
        Directory.CreateDirectory(work);
        foreach (var name in wal)
        {
            await File.WriteAllTextAsync(Path.Combine(work, name), name);
            await archive.PushAsync(Path.Combine(work, name), default);
        }
    }

    private static string[] WalLeft(string root) =>
        [.. Directory.GetFiles(Path.Combine(root, "wal"), "*.zst").Select(f => Path.GetFileName(f)[..^".zst".Length]).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task The_second_copy_is_expired_by_its_own_base_backups_and_the_primary_by_its_own()
    {
        using var dir = new TempDirectory();
        var primary = Path.Combine(dir.Path, "primary");
        var secondary = Path.Combine(dir.Path, "secondary");
        var old = Base(40, 0x10);
        var kept = Base(3, 0x13);
        // The primary lost its old base backup to an earlier cleanup; the second copy still holds it and its WAL.
        await PopulateAsync(primary, Path.Combine(dir.Path, "w1"), [kept], Segments(1, 0x13, 0x16));
        await PopulateAsync(secondary, Path.Combine(dir.Path, "w2"), [old, kept], Segments(1, 0x10, 0x16).Append("00000002.history"));
        using var engine = Engine.Create(new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = primary, ["BACKUP_SECONDARY_STORE"] = "filesystem", ["BACKUP_SECONDARY_DIR"] = secondary,
        }, new FakeTimeProvider(Now));

        var results = await engine.GetRequiredService<WalRetention>().ApplyToEveryCopyAsync(engine.GetRequiredService<BackupStores>(), default);

        Assert.Equal([BackupSource.Primary, BackupSource.Secondary], results.Select(r => r.Source));
        Assert.All(results, r => Assert.Empty(r.Failures));
        Assert.Equal(0, results[0].Plan.Deletions);
        Assert.Equal([old.Name], results[1].Plan.DeletedBases);
        Assert.Equal([.. Segments(1, 0x13, 0x16)], WalLeft(primary));
        Assert.Equal([.. Segments(1, 0x13, 0x16).Append("00000002.history").Order(StringComparer.Ordinal)], WalLeft(secondary));
        Assert.False(File.Exists(Path.Combine(secondary, old.Name)));
        Assert.True(File.Exists(Path.Combine(secondary, kept.Name)));
    }

    [Fact]
    public async Task Cleanup_of_the_second_copy_from_the_cli_keeps_what_its_base_backups_need_and_leaves_the_primary_alone()
    {
        using var dir = new TempDirectory();
        var primary = Path.Combine(dir.Path, "primary");
        var secondary = Path.Combine(dir.Path, "secondary");
        var old = Base(40, 0x10);
        var kept = Base(3, 0x13);
        await PopulateAsync(primary, Path.Combine(dir.Path, "w1"), [old, kept], Segments(1, 0x10, 0x16));
        await PopulateAsync(secondary, Path.Combine(dir.Path, "w2"), [old, kept], Segments(1, 0x10, 0x16));
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = primary, ["BACKUP_SECONDARY_STORE"] = "filesystem", ["BACKUP_SECONDARY_DIR"] = secondary };

        var cleanup = await FloyoDr.RunAsync(env, "cleanup", "--source", "secondary");

        Assert.True(cleanup.ExitCode == 0, cleanup.All);
        Assert.Equal([.. Segments(1, 0x13, 0x16)], WalLeft(secondary));
        Assert.Equal([.. Segments(1, 0x10, 0x16)], WalLeft(primary));
        var verify = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = secondary }, "wal", "verify");
        Assert.True(verify.ExitCode == 0, verify.All);
    }
}
