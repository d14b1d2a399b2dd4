using System.Security.Cryptography;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Checks;

/// <summary>
/// The further copies' WAL lag on the checks timer: a filesystem primary and a filesystem second copy, segments
/// pushed through the real WalArchive on a fake clock (their records' archived-at), copied with the real WalCopier,
/// and the check's incident raised and resolved by the real CheckAlerter.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class WalCopiesCheckTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(Start);

    public void Dispose() => _dir.Dispose();

    private string Primary => Path.Combine(_dir.Path, "primary");

    private string Copy => Path.Combine(_dir.Path, "copy");

    private ServiceProvider Engine(bool withCopy = true) => Support.Engine.Create(new Dictionary<string, string?>
    {
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = Primary,
        ["BACKUP_SECONDARY_STORE"] = withCopy ? "filesystem" : null,
        ["BACKUP_SECONDARY_DIR"] = withCopy ? Copy : null,
    }, _clock);

    private static Task<CheckResult> RunAsync(ServiceProvider engine) =>
        engine.GetServices<ICheck>().Single(c => c.Name == "wal-copies").RunAsync(CancellationToken.None);

    private async Task PushAsync(ServiceProvider engine, string segment)
    {
        var file = Path.Combine(_dir.Path, segment);
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(64 * 1024));
        await engine.GetRequiredService<WalArchive>().PushAsync(file, default);
        File.Delete(file);
    }

    /// <summary>A base backup as BaseBackupRunner leaves it: the tar, then its metadata.</summary>
    private async Task BaseBackupAsync(ServiceProvider engine, string firstSegment)
    {
        var tar = RandomNumberGenerator.GetBytes(32 * 1024);
        var store = engine.GetRequiredService<IBackupStore>();
        var name = "base/base_20261201_015500.tar.zst";
        var now = _clock.GetUtcNow();
        await store.WriteAllAsync(name, tar, ObjectRetention.None, default);
        var meta = new BaseBackupMetadata(1, name, now.AddMinutes(-5), now.AddMinutes(-4), "0/1000028", "0/1000100", 1, firstSegment, 16 * 1024 * 1024,
            "db:5432", "15.8", null, tar.Length, tar.Length, "zstd", Convert.ToHexStringLower(SHA256.HashData(tar)), true, 60, now.AddDays(40));
        await store.WriteAllAsync(BaseBackupCatalog.MetadataOf(name), meta.ToJson(), ObjectRetention.None, default);
    }

    [Fact]
    public async Task Without_a_further_copy_or_without_a_base_backup_it_is_not_configured()
    {
        await using (var alone = Engine(withCopy: false))
        {
            await PushAsync(alone, "000000010000000000000001");
            await BaseBackupAsync(alone, "000000010000000000000001");
            _clock.Advance(TimeSpan.FromDays(3));
            var result = await RunAsync(alone);
            Assert.Equal(CheckStatus.NotConfigured, result.Status);
            Assert.Contains("no further copy is configured", result.Detail, StringComparison.Ordinal);
        }

        // A copy but dumps only (no WAL archiving): nothing to trail, even with old segments and an empty copy.
        Directory.Delete(Primary, recursive: true);
        await using var engine = Engine();
        await PushAsync(engine, "000000010000000000000001");
        _clock.Advance(TimeSpan.FromDays(3));
        var noBase = await RunAsync(engine);
        Assert.Equal(CheckStatus.NotConfigured, noBase.Status);
        Assert.Contains("no base backup in", noBase.Detail, StringComparison.Ordinal);
        var report = new CheckReport(_clock.GetUtcNow(), [noBase]);
        Assert.Empty(await engine.GetRequiredService<CheckAlerter>().ApplyAsync(report, default));
    }

    [Fact]
    public async Task A_copy_not_fed_for_longer_than_WAL_COPY_MAX_LAG_MINUTES_raises_one_critical_incident_and_its_next_copy_resolves_it()
    {
        await using var engine = Engine();
        var alerter = engine.GetRequiredService<CheckAlerter>();
        var alerts = engine.GetRequiredService<IncidentAlerts>();
        await PushAsync(engine, "000000010000000000000001");
        await PushAsync(engine, "000000010000000000000002");
        await BaseBackupAsync(engine, "000000010000000000000001");
        Assert.True((await engine.GetRequiredService<WalCopier>().CopyAsync(BackupSource.Secondary, verify: false, default)).Complete);

        var current = await RunAsync(engine);
        Assert.Equal((CheckStatus.Ok, 0d), (current.Status, current.Value));
        Assert.Contains("is current, newest segment 000000010000000000000002", current.Detail, StringComparison.Ordinal);

        // The primary archives a segment; nothing copies it (the incremental timer is not running).
        _clock.Advance(TimeSpan.FromHours(1));
        await PushAsync(engine, "000000010000000000000003");
        _clock.Advance(TimeSpan.FromHours(7));
        var atLimit = await RunAsync(engine);
        Assert.Equal(CheckStatus.Ok, atLimit.Status);
        Assert.Equal(7 * 3600d, atLimit.Value);
        Assert.Contains("is behind by 7h00m", atLimit.Detail, StringComparison.Ordinal);

        _clock.Advance(TimeSpan.FromMinutes(1));
        var lagging = await RunAsync(engine);
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Critical), (lagging.Status, lagging.Severity));
        Assert.Equal(7 * 3600d + 60, lagging.Value);
        Assert.Equal("s", lagging.Unit);
        Assert.Contains($"the second copy's WAL archive ({Copy}) is 7h01m behind the primary", lagging.Detail, StringComparison.Ordinal);
        Assert.Contains("WAL_COPY_MAX_LAG_MINUTES (420)", lagging.Detail, StringComparison.Ordinal);

        // Through the alerter, as ChecksTimer and check --alert do: one incident while it lasts.
        var opened = await alerter.ApplyAsync(new CheckReport(_clock.GetUtcNow(), [lagging]), default);
        var again = await alerter.ApplyAsync(new CheckReport(_clock.GetUtcNow(), [await RunAsync(engine)]), default);
        Assert.Equal([("check:wal-copies", IncidentAlerts.Opened)], opened.Select(a => (a.Key, a.Action)));
        Assert.Equal([("check:wal-copies", IncidentAlerts.StillOpen)], again.Select(a => (a.Key, a.Action)));
        var open = Assert.Single(await alerts.ListOpenAsync(default));
        Assert.Equal(("check:wal-copies", NotificationSeverity.Critical), (open.Key, open.Severity));

        // Fed again: the check passes and its incident resolves.
        var copied = await engine.GetRequiredService<WalCopier>().CopyAsync(BackupSource.Secondary, verify: false, default);
        Assert.Equal((1, "000000010000000000000003"), (copied.WalFilesCopied, copied.NewestSegment));
        var caughtUp = await RunAsync(engine);
        Assert.Equal(CheckStatus.Ok, caughtUp.Status);
        var resolved = await alerter.ApplyAsync(new CheckReport(_clock.GetUtcNow(), [caughtUp]), default);
        Assert.Equal([("check:wal-copies", IncidentAlerts.Resolved)], resolved.Select(a => (a.Key, a.Action)));
        Assert.Empty(await alerts.ListOpenAsync(default));
    }

    [Fact]
    public async Task A_copy_configured_later_lags_at_once_and_one_whose_failed_run_already_paged_is_a_warning_naming_that_incident()
    {
        await using (var before = Engine(withCopy: false))
        {
            await PushAsync(before, "000000010000000000000001");
            await BaseBackupAsync(before, "000000010000000000000001");
        }
        _clock.Advance(TimeSpan.FromHours(8));
        await using var engine = Engine();

        var empty = await RunAsync(engine);
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Critical), (empty.Status, empty.Severity));
        Assert.Contains("its newest segment is none, while the primary has held 000000010000000000000001", empty.Detail, StringComparison.Ordinal);

        // The copy's own run failed and paged (wal-copy:secondary): the lag is the same episode, so it does not page again.
        await engine.GetRequiredService<IncidentAlerts>().RaiseAsync(WalCopyAlerter.KeyOf(BackupSource.Secondary), NotificationSeverity.Critical, "The WAL archive's second copy failed", "refused", default);
        var known = await RunAsync(engine);
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Warning), (known.Status, known.Severity));
        Assert.EndsWith("(already open as incident wal-copy:secondary)", known.Detail, StringComparison.Ordinal);
    }
}
