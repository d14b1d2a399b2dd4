using System.Globalization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Storage;

/// <summary>
/// Immutability and legal hold, which Azurite does not implement, checked at the protocol level: the
/// real SDK client and BlobStore run against Azurite, a recorder sees the exact requests, and a WORM
/// emulator in front of Azurite plays Azure's side (policies, holds, 409 refusals).
/// </summary>
public sealed class ImmutabilityProtocolTests
{
    private static async Task<TestDatabase> SmallDatabaseAsync()
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 5000) g;");
        return db;
    }

    [Theory]
    [InlineData("unlocked", "Unlocked")]
    [InlineData("locked", "Locked")]
    public async Task Every_backup_blob_is_committed_with_its_policy_expiring_with_its_retention(string mode, string header)
    {
        await using var db = await SmallDatabaseAsync();
        await using var container = await new BlobTestContainer().CreateAsync();
        var recorder = new HttpRecorder();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = BlobEngine.Settings(container.ConnectionString, container.Name, mode, db.Url);
        settings["BACKUP_RETENTION_DAYS"] = "30";
        await using var engine = BlobEngine.Create(settings, recorder, new WormEmulator(clock), clock);

        var meta = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata;

        Assert.Equal(meta.Timestamp.AddDays(30), meta.RetainUntil);
        var expected = meta.RetainUntil.ToString("R", CultureInfo.InvariantCulture);
        var commit = Assert.Single(recorder.To(meta.Name), r => r.Method == "PUT" && r.Comp == "blocklist");
        Assert.Equal(expected, commit.Header("x-ms-immutability-policy-until-date"));
        Assert.Equal(header, commit.Header("x-ms-immutability-policy-mode"));
        Assert.Equal("*", commit.Header("If-None-Match"));
        Assert.Contains("type=full", Uri.UnescapeDataString(commit.Header("x-ms-tags")!));
        Assert.Contains($"date={meta.Timestamp:yyyyMMdd}", Uri.UnescapeDataString(commit.Header("x-ms-tags")!));
        // Blocks carry no policy; only the commit makes the blob, and it is protected from its first moment.
        Assert.All(recorder.To(meta.Name).Where(r => r.Comp == "block"), r => Assert.Null(r.Header("x-ms-immutability-policy-until-date")));

        var metaPut = Assert.Single(recorder.To(BackupName.MetadataOf(meta.Name)), r => r.Method == "PUT" && r.Comp is null);
        Assert.Equal(expected, metaPut.Header("x-ms-immutability-policy-until-date"));
        Assert.Equal(header, metaPut.Header("x-ms-immutability-policy-mode"));
        Assert.Equal("*", metaPut.Header("If-None-Match"));
        Assert.Contains("kind=backup-meta", Uri.UnescapeDataString(metaPut.Header("x-ms-tags")!));

        // Applied at write time: no separate policy request was needed, and the service shows it.
        Assert.DoesNotContain(recorder.Requests, r => r.Comp == "immutabilityPolicies");
        var entry = Assert.Single(await engine.GetRequiredService<BackupCatalog>().ListAsync(default));
        Assert.Equal(meta.RetainUntil, entry.Data.RetainUntil);
        Assert.Equal(meta.RetainUntil, entry.MetadataObject.RetainUntil);
        Assert.True(entry.Data.IsProtected(clock.GetUtcNow()));
    }

    [Fact]
    public async Task Legal_hold_is_set_and_released_on_data_and_metadata_and_retention_never_sends_a_delete_for_protected_blobs()
    {
        await using var db = await SmallDatabaseAsync();
        await using var container = await new BlobTestContainer().CreateAsync();
        var recorder = new HttpRecorder();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = BlobEngine.Settings(container.ConnectionString, container.Name, "unlocked", db.Url);
        settings["BACKUP_RETENTION_DAYS"] = "1";
        await using var engine = BlobEngine.Create(settings, recorder, new WormEmulator(clock), clock);
        var store = engine.GetRequiredService<IBackupStore>();
        var held = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata;
        clock.Advance(TimeSpan.FromSeconds(2));
        var retained = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata;

        await store.SetLegalHoldAsync(held.Name, true, default);
        await store.SetLegalHoldAsync(BackupName.MetadataOf(held.Name), true, default);
        var hold = Assert.Single(recorder.To(held.Name), r => r.Comp == "legalhold");
        Assert.Equal("PUT", hold.Method);
        Assert.Equal("true", hold.Header("x-ms-legal-hold"));
        // The second backup's policy is pushed out past the retention date.
        await store.ExtendRetentionAsync(retained.Name, new ObjectRetention(clock.GetUtcNow().AddDays(60)), default);
        var extend = Assert.Single(recorder.To(retained.Name), r => r.Comp == "immutabilityPolicies");
        Assert.Equal(clock.GetUtcNow().AddDays(60).ToString("R", CultureInfo.InvariantCulture), extend.Header("x-ms-immutability-policy-until-date"));

        clock.Advance(TimeSpan.FromDays(3));
        // A newer backup, so neither older one is kept merely as the newest good one (nothing here is verified).
        await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        var planner = engine.GetRequiredService<RetentionPlanner>();
        var plan = await planner.PlanAsync(default);
        Assert.Equal("legal hold", plan.Decisions.Single(d => d.Backup == held.Name).Reason);
        Assert.Equal("still under the store's immutability policy", plan.Decisions.Single(d => d.Backup == retained.Name).Reason);
        Assert.Empty(await planner.ApplyAsync(plan, default));
        Assert.DoesNotContain(recorder.Requests, r => r.Method == "DELETE");

        var refused = await Assert.ThrowsAsync<ObjectProtectedException>(() => store.DeleteAsync(held.Name, default));
        Assert.Contains("legal hold", refused.Message);
        Assert.DoesNotContain(recorder.Requests, r => r.Method == "DELETE");

        await store.SetLegalHoldAsync(held.Name, false, default);
        Assert.Equal("false", recorder.To(held.Name).Last(r => r.Comp == "legalhold").Header("x-ms-legal-hold"));
    }

    [Fact]
    public async Task A_409_BlobImmutableDueToPolicy_from_the_service_is_a_clean_protected_finding()
    {
        await using var container = await new BlobTestContainer().CreateAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var worm = new WormEmulator(clock);
        await using var engine = BlobEngine.Create(BlobEngine.Settings(container.ConnectionString, container.Name, "unlocked"), handler: worm, clock: clock);
        var store = engine.GetRequiredService<IBackupStore>();
        await store.WriteAllAsync("verifications/x/1.json", "{}"u8.ToArray(), new ObjectRetention(clock.GetUtcNow().AddDays(7)), default);

        // The service knows better than our last look (another writer extended the policy, say).
        worm.HideProtectionOnRead = true;
        var error = await Assert.ThrowsAsync<ObjectProtectedException>(() => store.DeleteAsync("verifications/x/1.json", default));
        Assert.Equal("'verifications/x/1.json' is protected (immutability policy) and cannot be deleted", error.Message);
        Assert.NotNull(await store.GetAsync("verifications/x/1.json", default));
    }

    [Fact]
    public async Task Check_immutability_reports_enforced_only_when_overwrite_and_delete_are_refused()
    {
        await using var container = await new BlobTestContainer().CreateAsync();
        var clock = TimeProvider.System;
        await using (var worm = BlobEngine.Create(BlobEngine.Settings(container.ConnectionString, container.Name, "unlocked"), handler: new WormEmulator()))
        {
            var report = await ImmutabilityProbe.CheckAsync((BlobStore)worm.GetRequiredService<IBackupStore>(), clock, default);
            Assert.True(report.Enforced, string.Join("; ", report.Steps));
            Assert.True(report.ContainerReportsVersionLevelWorm);
            Assert.Contains(report.Steps, s => s.Check == "delete refused" && s.Detail.Contains("BlobImmutableDueToPolicy", StringComparison.Ordinal));
        }
        await using (var azurite = BlobEngine.Create(BlobEngine.Settings(container.ConnectionString, container.Name, "unlocked")))
        {
            var report = await ImmutabilityProbe.CheckAsync((BlobStore)azurite.GetRequiredService<IBackupStore>(), clock, default);
            Assert.False(report.Enforced);
            Assert.Contains(report.Steps, s => !s.Passed && s.Detail.Contains("HTTP 501 APINotImplemented", StringComparison.Ordinal));
            Assert.Contains(report.Steps, s => s.Check == "overwrite refused" && !s.Passed);
            Assert.Contains(report.Steps, s => s.Check == "delete refused" && !s.Passed);
        }
        await foreach (var left in container.Client.GetBlobsAsync())
        {
            Assert.Fail($"the canary {left.Name} was left behind");
        }
    }

    [Fact]
    public async Task Once_its_policy_has_expired_retention_deletes_a_backup_with_its_records_metadata_first()
    {
        await using var db = await SmallDatabaseAsync();
        await using var container = await new BlobTestContainer().CreateAsync();
        using var second = new TempDirectory();
        var recorder = new HttpRecorder();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = BlobEngine.Settings(container.ConnectionString, container.Name, "unlocked", db.Url);
        settings["BACKUP_RETENTION_DAYS"] = "1";
        settings["BACKUP_SECONDARY_STORE"] = "filesystem";
        settings["BACKUP_SECONDARY_DIR"] = second.Path;
        await using var engine = BlobEngine.Create(settings, recorder, new WormEmulator(clock), clock);
        var meta = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata;
        Assert.True((await engine.GetRequiredService<Floyo.Recovery.Storage.Secondary.BackupCopier>().CopyAsync(meta.Name, Floyo.Recovery.Storage.BackupSource.Secondary, default)).Verified);

        var planner = engine.GetRequiredService<RetentionPlanner>();
        Assert.Empty((await planner.PlanAsync(default)).Deletions);
        clock.Advance(TimeSpan.FromDays(2));
        // A newer backup, so the expired one is not kept as the newest good one (nothing here is verified).
        var newer = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata;
        var plan = await planner.PlanAsync(default);
        Assert.Equal(meta.Name, Assert.Single(plan.Deletions).Backup);
        Assert.Empty(await planner.ApplyAsync(plan, default));

        var deletes = recorder.Requests.Where(r => r.Method == "DELETE").Select(r => Uri.UnescapeDataString(r.Path)).ToList();
        Assert.EndsWith(BackupName.MetadataOf(meta.Name), deletes[0]);
        Assert.EndsWith("/" + meta.Name, deletes[1]);
        Assert.Contains(deletes, d => d.Contains("/copies/" + meta.Name + "/", StringComparison.Ordinal));
        var left = await BlobStoreTests.ToListAsync(engine.GetRequiredService<IBackupStore>().ListAsync("", default));
        Assert.DoesNotContain(left, o => o.Name.Contains(meta.Name, StringComparison.Ordinal));
        Assert.Contains(left, o => o.Name == newer.Name);
    }
}
