using System.Globalization;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// A recovery that becomes the new primary (--archive) branches timeline 2 into the same archive: wal verify
/// follows the archived history file across the switch, a later PITR reaches rows written on timeline 2,
/// and without the history file the new timeline is a break, named.
/// </summary>
public sealed class TimelineTests
{
    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static async Task<DateTimeOffset> NowAsync(ArchivingCluster cluster, int? port = null) =>
        new(DateTime.SpecifyKind(await cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()", port), DateTimeKind.Utc));

    [Fact]
    public async Task A_promoted_recovery_archives_a_new_timeline_that_verify_and_a_later_pitr_follow()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = cluster.Store, ["FLOYO_DR_COMMAND"] = cluster.Wrapper };
        await cluster.ExecuteAsync("CREATE TABLE events (id int PRIMARY KEY, timeline text)");
        var backup = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url }, "backup", "--base");
        Assert.True(backup.ExitCode == 0, backup.All);
        await cluster.ExecuteAsync("INSERT INTO events SELECT g, 'one' FROM generate_series(1, 50) g");
        await Task.Delay(800);
        var branch = await NowAsync(cluster);
        await Task.Delay(800);
        await cluster.ExecuteAsync("INSERT INTO events SELECT g, 'one, lost' FROM generate_series(51, 100) g");
        await cluster.SwitchAndWaitForArchiveAsync();

        // The old primary is gone; the recovery becomes the primary and keeps archiving.
        await cluster.StopServerAsync(cluster.DataDir);
        var promotedDir = Path.Combine(cluster.Root, "promoted");
        var promotedPort = ArchivingCluster.FreePort();
        var promote = await FloyoDr.RunAsync(env, "restore", "--pitr", "--target-time", Iso(branch), "--data-dir", promotedDir,
            "--port", promotedPort.ToString(CultureInfo.InvariantCulture), "--start", "--archive");
        Assert.True(promote.ExitCode == 0, promote.All);
        Assert.Equal(50L, await cluster.ScalarAsync<long>("SELECT count(*) FROM events", promotedPort));
        await cluster.ExecuteAsync("INSERT INTO events SELECT g, 'two' FROM generate_series(1001, 1030) g", promotedPort);
        await Task.Delay(800);
        var afterTwo = await NowAsync(cluster, promotedPort);
        await Task.Delay(800);
        await cluster.ExecuteAsync("INSERT INTO events VALUES (2000, 'two, after the target')", promotedPort);
        await cluster.SwitchAndWaitForArchiveAsync(promotedPort);
        Assert.True(File.Exists(Path.Combine(cluster.Store, "wal", "00000002.history.json")), "the new timeline's history file was not archived");

        var verify = await FloyoDr.RunAsync(env, "wal", "verify");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.Matches(@"to 00000002[0-9A-F]{16} ", verify.StdOut);

        var laterDir = Path.Combine(cluster.Root, "later");
        var laterPort = ArchivingCluster.FreePort();
        var later = await FloyoDr.RunAsync(env, "restore", "--pitr", "--target-time", Iso(afterTwo), "--data-dir", laterDir,
            "--port", laterPort.ToString(CultureInfo.InvariantCulture), "--start");
        Assert.True(later.ExitCode == 0, later.All);
        Assert.Equal(50L, await cluster.ScalarAsync<long>("SELECT count(*) FROM events WHERE timeline = 'one'", laterPort));
        Assert.Equal(30L, await cluster.ScalarAsync<long>("SELECT count(*) FROM events WHERE timeline = 'two'", laterPort));
        Assert.Equal(0L, await cluster.ScalarAsync<long>("SELECT count(*) FROM events WHERE timeline <> 'one' AND timeline <> 'two'", laterPort));

        // Without the history file nothing links timeline 2 to the base backup's timeline 1.
        File.Delete(Path.Combine(cluster.Store, "wal", "00000002.history.json"));
        var broken = await FloyoDr.RunAsync(env, "wal", "verify");
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("timeline break: segments on timeline 2 but no archived 00000002.history", broken.StdOut);
    }
}
