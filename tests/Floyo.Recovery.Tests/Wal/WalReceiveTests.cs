using System.Diagnostics;
using System.Globalization;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// Pull mode on a server WITHOUT archive_command: a NOSUPERUSER admin with REPLICATION drains a physical slot
/// with pg_receivewal (<c>wal receive --until-now</c>); only complete segments reach the archive, and a base
/// backup plus the received WAL recovers the rows.
/// </summary>
public sealed class WalReceiveTests
{
    private const string Slot = "floyo_pull";

    [Fact]
    public async Task Wal_received_through_a_slot_without_archive_command_is_continuous_never_partial_and_recovers_the_rows()
    {
        await using var cluster = await ArchivingCluster.StartAsync(archiving: false);
        Assert.Equal("off", await cluster.ScalarAsync<string>("SHOW archive_mode"));
        var admin = await cluster.CreateReplicationAdminAsync("floyo_puller", mayCallSwitchWal: false);
        await cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        var work = Path.Combine(cluster.Sockets, "work");
        var env = new Dictionary<string, string?> { ["DATABASE_URL"] = admin, ["WAL_RECEIVE_SLOT"] = Slot, ["FLOYO_WORK_DIR"] = work };

        // The base backup creates the slot first, so every segment it needs stays on the server until received.
        var baseBackup = await cluster.FloyoDrAsPostgresAsync(env, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);
        Assert.Equal("physical", await cluster.ScalarAsync<string>($"SELECT slot_type FROM pg_replication_slots WHERE slot_name = '{Slot}'"));

        // Rows 1-100, then a receive by a role that may not close the segment: their segment stays .partial, unarchived.
        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(1, 100)");
        var open = await cluster.ScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_lsn())");
        var first = await cluster.FloyoDrAsPostgresAsync(env, "wal", "receive", "--until-now");
        Assert.True(first.ExitCode == 0, first.All);
        Assert.Contains($"slot '{Slot}' drained to ", first.StdOut);
        var folder = Path.Combine(work, $"wal-receive-{Slot}");
        Assert.True(File.Exists(Path.Combine(folder, open + ".partial")), string.Join(", ", Directory.GetFiles(folder).Select(Path.GetFileName)));
        Assert.False(File.Exists(Path.Combine(cluster.Store, "wal", open + ".zst")));
        Assert.False(File.Exists(Path.Combine(cluster.Store, "wal", open + ".partial.zst")));

        // Allowed to switch now: rows 101-200, the target, rows 201-300, then a receive up to now.
        await cluster.ExecuteAsync("GRANT EXECUTE ON FUNCTION pg_switch_wal() TO floyo_puller");
        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(101, 200)");
        await Task.Delay(700);
        var target = DateTime.SpecifyKind(await cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()"), DateTimeKind.Utc);
        await Task.Delay(700);
        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(201, 300)");
        var second = await cluster.FloyoDrAsPostgresAsync(env, "wal", "receive", "--until-now", "--json");
        Assert.True(second.ExitCode == 0, second.All);
        Assert.Contains(open, second.StdOut);
        Assert.True(File.Exists(Path.Combine(cluster.Store, "wal", open + ".zst")));
        Assert.Empty(Directory.GetFiles(Path.Combine(cluster.Store, "wal"), "*partial*"));
        // The slot was drained: the server keeps no more than the segment being written.
        Assert.True(await cluster.ScalarAsync<decimal>($"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots WHERE slot_name = '{Slot}'") < 16 * 1024 * 1024);

        // A second receive with nothing new succeeds and archives nothing twice.
        var idle = await cluster.FloyoDrAsPostgresAsync(env, "wal", "receive", "--until-now");
        Assert.True(idle.ExitCode == 0, idle.All);

        // The 6-hourly incremental in pull mode: the receive closes the segment and the archive is proven to it.
        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(301, 310)");
        var incremental = await cluster.FloyoDrAsPostgresAsync(env, "backup", "--incremental");
        Assert.True(incremental.ExitCode == 0, incremental.All);
        Assert.Contains("continuous from base backup base/base_", incremental.StdOut);

        var storeEnv = new Dictionary<string, string?> { ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = cluster.Store, ["FLOYO_DR_COMMAND"] = cluster.Wrapper };
        var verify = await FloyoDr.RunAsync(storeEnv, "wal", "verify");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.StartsWith("continuous: ", verify.StdOut);

        var dataDir = Path.Combine(cluster.Root, "pitr");
        var port = ArchivingCluster.FreePort();
        var restore = await FloyoDr.RunAsync(storeEnv, "restore", "--pitr", "--target-time", target.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            "--data-dir", dataDir, "--port", port.ToString(CultureInfo.InvariantCulture), "--start");
        Assert.True(restore.ExitCode == 0, restore.All);
        Assert.Equal(200L, await cluster.ScalarAsync<long>("SELECT count(*) FROM orders", port));
        Assert.Equal(200, await cluster.ScalarAsync<int>("SELECT max(id) FROM orders", port));
        await cluster.StopServerAsync(dataDir);
    }

    [Fact]
    public async Task Without_a_slot_receive_is_not_configured_and_succeeds_and_a_bad_slot_name_is_a_configuration_error()
    {
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var none = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = store }, "wal", "receive", "--until-now");
        Assert.True(none.ExitCode == 0, none.All);
        Assert.StartsWith("not configured: WAL_RECEIVE_SLOT is not set", none.StdOut, StringComparison.Ordinal);

        var bad = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = store, ["WAL_RECEIVE_SLOT"] = "Bad-Slot", ["DATABASE_URL"] = "postgresql://u:p@127.0.0.1:1/x" }, "wal", "receive");
        Assert.Equal((int)ErrorKind.Configuration, bad.ExitCode);
        Assert.Contains("WAL_RECEIVE_SLOT 'Bad-Slot' is not a replication slot name", bad.StdErr);
        Assert.Single(bad.StdErr.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(store, "wal")));
    }

    [Fact]
    public async Task Stopping_an_endless_receive_archives_the_segments_it_completed_and_frees_the_slot()
    {
        await using var cluster = await ArchivingCluster.StartAsync(archiving: false);
        var admin = await cluster.CreateReplicationAdminAsync("floyo_puller", mayCallSwitchWal: false);
        var work = Path.Combine(cluster.Sockets, "work");
        var env = new Dictionary<string, string?> { ["DATABASE_URL"] = admin, ["WAL_RECEIVE_SLOT"] = Slot, ["FLOYO_WORK_DIR"] = work };
        var receiving = StartAsPostgres(cluster, env, "wal", "receive");
        try
        {
            // Wait for the slot to be in use, then fill more than a segment and close it from the superuser side.
            var deadline = Stopwatch.StartNew();
            while (!await cluster.ScalarAsync<bool>($"SELECT coalesce((SELECT active FROM pg_replication_slots WHERE slot_name = '{Slot}'), false)"))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the receiver never connected");
                await Task.Delay(200);
            }
            var closed = await cluster.ScalarAsync<string>("SELECT pg_walfile_name(pg_switch_wal())");
            while (!File.Exists(Path.Combine(cluster.Store, "wal", closed + ".json")))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), $"{closed} was not archived while receiving");
                await Task.Delay(200);
            }
        }
        finally
        {
            // SIGTERM, as a service manager stops it; .NET turns it into cancellation.
            using var kill = Process.Start("kill", ["-TERM", receiving.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill!.WaitForExitAsync();
            await receiving.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(cluster.Store, "wal"), "*partial*"));
        // pg_receivewal went with it: the slot is free (the server notices the closed connection within moments).
        var stopped = Stopwatch.StartNew();
        while (await cluster.ScalarAsync<bool>($"SELECT active FROM pg_replication_slots WHERE slot_name = '{Slot}'"))
        {
            Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(15), "pg_receivewal still holds the slot after the receive was stopped");
            await Task.Delay(200);
        }
    }

    private static Process StartAsPostgres(ArchivingCluster cluster, Dictionary<string, string?> env, params string[] args)
    {
        var info = new ProcessStartInfo("runuser") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var arg in new[] { "-u", "postgres", "--", cluster.Wrapper }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }
}
