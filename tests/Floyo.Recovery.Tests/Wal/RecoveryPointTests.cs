using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>The recovery point /api/health and list report: the newest continuously archived WAL, or the newest verified dump, whichever is later.</summary>
[Trait("Tier", "Fast")]
public sealed class RecoveryPointTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A store with a base backup taken 6 h ago and one segment archived every 10 minutes since, the last 5 minutes ago.</summary>
    private static async Task<(FilesystemStore Store, FakeTimeProvider Clock, List<string> Segments)> ArchiveAsync(TempDirectory dir)
    {
        var store = new FilesystemStore(Path.Combine(dir.Path, "store"));
        var clock = new FakeTimeProvider(Now.AddHours(-6));
        var meta = WalRetentionTests.Base(0.25, 0x20);
        await store.WriteAllAsync(meta.Name, new byte[] { 1 }, new ObjectRetention(Now.AddDays(30)), default);
        await store.WriteAllAsync(BaseBackupCatalog.MetadataOf(meta.Name), meta.ToJson(), new ObjectRetention(Now.AddDays(30)), default);
        var archive = new WalArchive(store, Options.Create(new BackupOptions()), clock, NullLogger<WalArchive>.Instance);
        var source = Path.Combine(dir.Path, "pg_wal");
        Directory.CreateDirectory(source);
        var segments = new List<string>();
        for (var segment = 0x20UL; clock.GetUtcNow() <= Now.AddMinutes(-5); segment++)
        {
            var name = WalFileName.SegmentName(1, segment);
            await File.WriteAllTextAsync(Path.Combine(source, name), name);
            await archive.PushAsync(Path.Combine(source, name), default);
            segments.Add(name);
            clock.Advance(TimeSpan.FromMinutes(10));
        }
        clock.SetUtcNow(Now);
        return (store, clock, segments);
    }

    [Fact]
    public async Task Continuous_wal_archived_minutes_ago_is_the_recovery_point_and_health_is_within_a_one_hour_target_without_any_verified_dump()
    {
        using var dir = new TempDirectory();
        var (store, clock, segments) = await ArchiveAsync(dir);

        var status = await new RpoCheck(new BackupCatalog(store), clock).CheckAsync(null, TimeSpan.FromHours(1), default);

        Assert.True(status.WithinTarget, status.Reason);
        Assert.Equal(Now.AddMinutes(-10), status.RecoveryPoint);
        Assert.Equal($"WAL archive continuous to {segments[^1]} from {WalRetentionTests.Base(0.25, 0x20).Name}", status.RecoveryPointSource);
        Assert.Equal(600, status.AgeSeconds);
        Assert.StartsWith("recovery point (WAL archive continuous to", status.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gap_stops_the_recovery_point_at_the_last_continuous_segment_and_is_a_breach()
    {
        using var dir = new TempDirectory();
        var (store, clock, segments) = await ArchiveAsync(dir);
        var missing = segments[^3];
        File.Delete(Path.Combine(dir.Path, "store", "wal", missing + ".json"));

        var point = await new RecoveryPointFinder(new BackupCatalog(store)).FindAsync(null, default);
        var status = await new RpoCheck(new BackupCatalog(store), clock).CheckAsync(null, TimeSpan.FromHours(1), default);

        Assert.Equal(Now.AddMinutes(-40), point.Time);
        Assert.Contains($"continuous to {segments[^4]}", point.Source, StringComparison.Ordinal);
        Assert.StartsWith($"gap: {missing} is missing", point.Finding, StringComparison.Ordinal);
        Assert.False(status.WithinTarget);
        Assert.Contains($"gap: {missing} is missing", status.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_base_backup_the_recovery_point_is_the_newest_verified_dump_as_before()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(Path.Combine(dir.Path, "store"));
        var status = await new RpoCheck(new BackupCatalog(store), new FakeTimeProvider(Now)).CheckAsync(null, TimeSpan.FromHours(1), default);
        Assert.False(status.WithinTarget);
        Assert.StartsWith("no verified backup and no continuous WAL archive in ", status.Reason, StringComparison.Ordinal);
    }
}
