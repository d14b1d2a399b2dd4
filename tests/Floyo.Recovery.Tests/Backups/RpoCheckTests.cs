using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Backups;

/// <summary>RPO from verified dumps alone (no WAL archive), on fabricated backups in a temp-folder store.</summary>
[Trait("Tier", "Fast")]
public sealed class RpoCheckTests
{
    private static readonly DateTimeOffset Now = new(2030, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_newest_verified_dump_of_the_database_sets_the_age()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var verified = await FabricatedBackups.WriteAsync(store, "shop", Now.AddMinutes(-90));
        await FabricatedBackups.VerifyAsync(store, verified.Name, Now.AddMinutes(-80), passed: true);
        var failed = await FabricatedBackups.WriteAsync(store, "shop", Now.AddMinutes(-20));
        await FabricatedBackups.VerifyAsync(store, failed.Name, Now.AddMinutes(-10), passed: false);
        var other = await FabricatedBackups.WriteAsync(store, "crm", Now.AddMinutes(-5));
        await FabricatedBackups.VerifyAsync(store, other.Name, Now.AddMinutes(-4), passed: true);
        var rpo = new RpoCheck(new BackupCatalog(store), new FakeTimeProvider(Now));

        var within = await rpo.CheckAsync("shop", TimeSpan.FromHours(2), default);
        Assert.True(within.WithinTarget, within.Reason);
        Assert.Equal(verified.Name, within.NewestVerifiedBackup);
        Assert.Equal(5400, within.AgeSeconds);
        Assert.Equal($"newest verified backup of 'shop' {verified.Name} is 1h30m old, within the 2h00m RPO target", within.Reason);

        var breached = await rpo.CheckAsync("shop", TimeSpan.FromHours(1), default);
        Assert.False(breached.WithinTarget);
        Assert.Equal($"RPO breached: newest verified backup of 'shop' {verified.Name} is 1h30m old, over the 1h00m RPO target", breached.Reason);

        var any = await rpo.CheckAsync(null, TimeSpan.FromMinutes(10), default);
        Assert.True(any.WithinTarget, any.Reason);
        Assert.Equal(other.Name, any.NewestVerifiedBackup);
    }

    [Fact]
    public async Task Old_backups_are_told_in_days_and_none_verified_is_an_unknown_recovery_point()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var old = await FabricatedBackups.WriteAsync(store, "shop", Now.AddDays(-3));
        var rpo = new RpoCheck(new BackupCatalog(store), new FakeTimeProvider(Now));

        var unknown = await rpo.CheckAsync("shop", TimeSpan.FromDays(1), default);
        Assert.False(unknown.WithinTarget);
        Assert.StartsWith("no verified backup of 'shop' and no continuous WAL archive in ", unknown.Reason, StringComparison.Ordinal);

        await FabricatedBackups.VerifyAsync(store, old.Name, Now.AddDays(-3).AddHours(1), passed: true);
        var stale = await rpo.CheckAsync("shop", TimeSpan.FromDays(1), default);
        Assert.Equal($"RPO breached: newest verified backup of 'shop' {old.Name} is 3.0 days old, over the 24h00m RPO target", stale.Reason);
    }
}
