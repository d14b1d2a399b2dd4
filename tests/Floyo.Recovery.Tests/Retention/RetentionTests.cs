using Floyo.Recovery.Backups;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Retention;

public sealed class RetentionTests
{
    [Fact]
    public async Task Expired_backups_go_but_the_newest_verified_and_held_ones_stay()
    {
        await using var database = await Sample.UsersAsync(100);
        using var dir = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        var clock = new FakeTimeProvider(now.AddDays(-100));
        await using var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path), clock);

        async Task<string> BackupAt(int daysAgo, bool verify)
        {
            clock.SetUtcNow(now.AddDays(-daysAgo));
            var name = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
            if (verify)
            {
                var entry = await engine.GetRequiredService<BackupCatalog>().FindAsync(name, default);
                Assert.True((await engine.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, default)).Passed);
            }
            return name;
        }

        var oldVerified = await BackupAt(45, verify: true);
        var oldUnverified = await BackupAt(40, verify: false);
        var newestVerified = await BackupAt(38, verify: true);
        var held = await BackupAt(36, verify: false);
        var recent = await BackupAt(1, verify: false);
        await engine.GetRequiredService<IBackupStore>().SetLegalHoldAsync(held, true, default);
        clock.SetUtcNow(now);

        var planner = engine.GetRequiredService<RetentionPlanner>();
        var plan = await planner.PlanAsync(default);
        Assert.Equal([oldVerified, oldUnverified], plan.Deletions.Select(d => d.Backup).Order(StringComparer.Ordinal));
        Assert.Equal("newest verified full backup of its database", plan.Decisions.Single(d => d.Backup == newestVerified).Reason);
        Assert.Equal("legal hold", plan.Decisions.Single(d => d.Backup == held).Reason);
        Assert.False(plan.Decisions.Single(d => d.Backup == recent).Delete);
        Assert.Equal(5, (await engine.GetRequiredService<BackupCatalog>().ListAsync(default)).Count);

        Assert.Empty(await planner.ApplyAsync(plan, default));
        var left = (await engine.GetRequiredService<BackupCatalog>().ListAsync(default)).Select(e => e.Name).ToHashSet();
        Assert.True(left.SetEquals([newestVerified, held, recent]));
        Assert.False(File.Exists(Path.Combine(dir.Path, oldVerified)));
        var records = Path.Combine(dir.Path, VerificationRecord.Prefix, oldVerified);
        Assert.True(!Directory.Exists(records) || Directory.GetFiles(records).Length == 0, "verification records go with their backup");
    }

    [Fact]
    public async Task The_only_verified_backup_is_kept_however_old_and_dry_run_deletes_nothing()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        var clock = new FakeTimeProvider(now.AddDays(-90));
        await using (var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path), clock))
        {
            var name = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
            await engine.GetRequiredService<BackupVerifier>().VerifyAsync(await engine.GetRequiredService<BackupCatalog>().FindAsync(name, default), null, default);
            clock.SetUtcNow(now.AddDays(-80));
            await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        }

        var dry = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "cleanup", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.All);
        Assert.Contains("would delete", dry.StdOut, StringComparison.Ordinal);
        Assert.Contains("newest verified full backup", dry.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.meta.json").Length);

        var real = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "cleanup");
        Assert.True(real.ExitCode == 0, real.All);
        var remaining = Assert.Single(Directory.GetFiles(dir.Path, "*.meta.json"));
        var list = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "list", "--json");
        Assert.Contains("\"verified\": true", list.StdOut, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(remaining)[..^".meta.json".Length], list.StdOut, StringComparison.Ordinal);
    }
}
