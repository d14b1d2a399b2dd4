using System.Diagnostics;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>The server side of the archive's health as findings (RPO breaches) where the recovery point is reported.</summary>
public sealed class ArchiveHealthTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly WalOptions Defaults = new();

    private static ArchiverState Archiver(string mode = "on", int timeout = 60, string? archived = "000000010000000000000010", double archivedAgo = 30,
        string? failed = null, double? failedAgo = null, string current = "0/11000000") =>
        new(mode, timeout, archived, archived is null ? null : Now.AddSeconds(-archivedAgo), failed, failedAgo is { } f ? Now.AddSeconds(-f) : null,
            failed is null ? 0 : 3, current, 16 * 1024 * 1024);

    [Fact]
    [Trait("Tier", "Fast")]
    public void A_healthy_archiver_and_a_quiet_server_are_no_finding()
    {
        Assert.Empty(ArchiveHealthProbe.Decide(Archiver(), [], Defaults, Now));
        // Idle for an hour, but nothing written after the last archived segment: nothing to archive.
        Assert.Empty(ArchiveHealthProbe.Decide(Archiver(archivedAgo: 3600, current: "0/11000000"), [], Defaults, Now));
        // An old failure that a later success superseded.
        Assert.Empty(ArchiveHealthProbe.Decide(Archiver(failed: "00000001000000000000000F", failedAgo: 90), [], Defaults, Now));
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void A_failing_archiver_is_a_finding_at_once_and_a_stopped_one_past_archive_timeout_plus_the_margin()
    {
        var failing = Assert.Single(ArchiveHealthProbe.Decide(Archiver(failed: "000000010000000000000011", failedAgo: 5), [], Defaults, Now));
        Assert.StartsWith("the server's archiver is failing: 000000010000000000000011 failed at 2026-11-30T11:59:55.000Z (3 failures in all); last archived: 000000010000000000000010", failing, StringComparison.Ordinal);

        // WAL written after the last archived segment, which is older than archive_timeout (60 s) + margin (60 s).
        Assert.Empty(ArchiveHealthProbe.Decide(Archiver(archivedAgo: 110, current: "0/11000100"), [], Defaults, Now));
        var stopped = Assert.Single(ArchiveHealthProbe.Decide(Archiver(archivedAgo: 130, current: "0/11000100"), [], Defaults, Now));
        Assert.StartsWith("the server's archiver has stopped: the last segment archived, 000000010000000000000010, was at 2026-11-30T11:57:50.000Z", stopped, StringComparison.Ordinal);

        // Without archive_timeout, only a complete segment left unarchived counts.
        Assert.Empty(ArchiveHealthProbe.Decide(Archiver(timeout: 0, archivedAgo: 3600, current: "0/11000100"), [], Defaults, Now));
        Assert.Single(ArchiveHealthProbe.Decide(Archiver(timeout: 0, archivedAgo: 3600, current: "0/12000100"), [], Defaults, Now));
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void Archiving_off_is_a_finding_unless_pulled_and_slots_are_findings_when_they_retain_too_much_or_have_no_consumer()
    {
        Assert.StartsWith("archiving is off on the server", Assert.Single(ArchiveHealthProbe.Decide(Archiver(mode: "off"), [], Defaults, Now)), StringComparison.Ordinal);

        var pulled = new WalOptions { ReceiveSlot = "floyo_pull", SlotMaxRetainedMegabytes = 64 };
        Assert.Empty(ArchiveHealthProbe.Decide(Archiver(mode: "off"), [new SlotState("floyo_pull", "physical", false, 10L << 20)], pulled, Now));
        Assert.StartsWith("replication slot 'floyo_pull' (WAL_RECEIVE_SLOT) does not exist", Assert.Single(ArchiveHealthProbe.Decide(Archiver(mode: "off"), [], pulled, Now)), StringComparison.Ordinal);
        Assert.Equal("replication slot 'floyo_pull' (inactive) retains 100 MiB of WAL, over WAL_SLOT_MAX_RETAINED_MB (64): its consumer is behind, so the archive lags the server and the server's disk fills",
            Assert.Single(ArchiveHealthProbe.Decide(Archiver(mode: "off"), [new SlotState("floyo_pull", "physical", false, 100L << 20)], pulled, Now)));

        var others = ArchiveHealthProbe.Decide(Archiver(), [new SlotState("standby", "physical", true, 2L << 30), new SlotState("old", "logical", false, 1L << 20)], Defaults, Now);
        Assert.Equal(2, others.Count);
        Assert.StartsWith("replication slot 'standby' (active) retains 2048 MiB of WAL, over WAL_SLOT_MAX_RETAINED_MB (1024)", others[0], StringComparison.Ordinal);
        Assert.StartsWith("replication slot 'old' is inactive (no consumer connected) and retains 1 MiB WAL", others[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_archive_command_and_a_slot_retaining_wal_are_findings_in_list_and_health_and_clear_when_fixed()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        var baseBackup = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url }, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);
        await cluster.SwitchAndWaitForArchiveAsync();
        var settings = new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = cluster.Store, ["DATABASE_URL"] = cluster.Url, ["WAL_SLOT_MAX_RETAINED_MB"] = "1",
        };
        var healthy = await FloyoDr.RunAsync(settings, "list");
        Assert.True(healthy.ExitCode == 0, healthy.All);
        Assert.Contains("recovery point: ", healthy.StdOut);
        Assert.DoesNotContain("finding", healthy.StdOut);

        await cluster.SetAsync("archive_command", "false");
        await cluster.ExecuteAsync("CREATE TABLE t AS SELECT generate_series(1, 1000) AS id");
        var closed = await cluster.ScalarAsync<string>("SELECT pg_walfile_name(pg_switch_wal())");
        await WaitAsync(cluster, "SELECT last_failed_wal IS NOT NULL FROM pg_stat_archiver");

        var broken = await FloyoDr.RunAsync(settings, "list");
        Assert.True(broken.ExitCode == 0, broken.All);
        Assert.Contains($"finding (RPO breach): the server's archiver is failing: {closed} failed at ", broken.StdOut);
        Assert.DoesNotContain(cluster.Url, broken.All);
        using (var engine = Engine.Create(settings))
        {
            var rpo = await engine.GetRequiredService<RpoCheck>().CheckAsync(null, TimeSpan.FromHours(1), default);
            Assert.False(rpo.WithinTarget);
            Assert.Contains("the server's archiver is failing", rpo.Reason, StringComparison.Ordinal);
        }

        // A slot nobody drains, holding more than WAL_SLOT_MAX_RETAINED_MB (1 MiB) once a few MiB are written.
        await cluster.ExecuteAsync("SELECT pg_create_physical_replication_slot('forgotten', true)");
        await cluster.ExecuteAsync("CREATE TABLE filler AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 30000) g");
        var slot = await FloyoDr.RunAsync(settings, "list");
        Assert.Matches(@"finding \(RPO breach\): replication slot 'forgotten' \(inactive\) retains \d+ MiB of WAL, over WAL_SLOT_MAX_RETAINED_MB \(1\)", slot.StdOut);

        // Fixed: archiving resumes (the archiver retries the same segment), the slot is dropped; the findings go.
        await cluster.ExecuteAsync("SELECT pg_drop_replication_slot('forgotten')");
        await cluster.SetAsync("archive_command", $"{cluster.Wrapper} wal push %p");
        await WaitAsync(cluster, "SELECT last_archived_time > last_failed_time FROM pg_stat_archiver");
        var fixedUp = await FloyoDr.RunAsync(settings, "list");
        Assert.DoesNotContain("finding", fixedUp.StdOut);
    }

    private static async Task WaitAsync(ArchivingCluster cluster, string condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await cluster.ScalarAsync<bool>(condition))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), $"timed out waiting for: {condition}");
            await Task.Delay(250);
        }
    }
}
