using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// Base backups read from the data directory itself (BASE_BACKUP_DATA_DIR) on a real PostgreSQL 15 cluster with a real
/// archive_command: floyo-dr runs as the server's OS user, logged in as a NOSUPERUSER admin granted only pg_backup_start
/// and pg_backup_stop; the backup is taken while rows are written and tables dropped, and a point-in-time recovery from
/// it (pg_verifybackup on its manifest) holds exactly the rows committed before the target.
/// </summary>
public sealed class DirectBaseBackupTests
{
    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string[] StoredBaseBackups(string store) =>
        Directory.Exists(Path.Combine(store, "base")) ? Directory.GetFiles(Path.Combine(store, "base")) : [];

    [Fact]
    public async Task A_direct_base_backup_under_writes_and_drops_recovers_exactly_the_rows_before_the_target()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        await cluster.ExecuteAsync("CREATE TABLE churn (id bigserial PRIMARY KEY, pad text)");
        await cluster.ExecuteAsync("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS pad FROM generate_series(1, 600000) g");
        await cluster.ExecuteAsync("CREATE UNLOGGED TABLE scratch AS SELECT g FROM generate_series(1, 1000) g");
        for (var i = 0; i < 120; i++)
        {
            await cluster.ExecuteAsync($"CREATE TABLE drop_me_{i} AS SELECT g FROM generate_series(1, 2000) g");
        }
        var admin = await cluster.CreateReplicationAdminAsync("direct_admin", mayCallSwitchWal: true);
        var env = new Dictionary<string, string?> { ["DATABASE_URL"] = admin, ["BASE_BACKUP_DATA_DIR"] = cluster.DataDir };

        // Without EXECUTE on pg_backup_start/stop: one line naming the grant, and nothing in the store.
        var refused = await cluster.FloyoDrAsPostgresAsync(env, "backup", "--base");
        Assert.True(refused.ExitCode == 3, refused.All);
        Assert.Contains("GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean)", refused.StdErr);
        Assert.Empty(StoredBaseBackups(cluster.Store));

        await cluster.ExecuteAsync("GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean) TO direct_admin");
        using var stopWriting = new CancellationTokenSource();
        var writing = Task.Run(async () =>
        {
            var dropped = 0;
            while (!stopWriting.IsCancellationRequested)
            {
                await cluster.ExecuteAsync("INSERT INTO churn (pad) SELECT md5(g::text) FROM generate_series(1, 500) g");
                if (dropped < 120)
                {
                    await cluster.ExecuteAsync($"DROP TABLE drop_me_{dropped++}");
                }
            }
            return dropped;
        });
        var backup = await cluster.FloyoDrAsPostgresAsync(env, "backup", "--base");
        await stopWriting.CancelAsync();
        var dropped = await writing;
        Assert.True(backup.ExitCode == 0, backup.All);
        Assert.True(dropped > 0, "no table was dropped while the backup ran");
        var churned = await cluster.ScalarAsync<long>("SELECT count(*) FROM churn");

        var stored = Assert.Single(StoredBaseBackups(cluster.Store), f => f.EndsWith(".tar.zst", StringComparison.Ordinal));
        using (var meta = JsonDocument.Parse(await File.ReadAllBytesAsync(stored + ".meta.json")))
        {
            Assert.True(meta.RootElement.GetProperty("hasManifest").GetBoolean());
            Assert.Equal(await cluster.ScalarAsync<string>("SELECT system_identifier::text FROM pg_control_system()"), meta.RootElement.GetProperty("systemIdentifier").GetString());
        }

        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(1, 100)");
        await Task.Delay(1100);
        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(101, 200)");
        await Task.Delay(700);
        var target = new DateTimeOffset(DateTime.SpecifyKind(await cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()"), DateTimeKind.Utc));
        await Task.Delay(700);
        await cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(201, 300)");
        await cluster.SwitchAndWaitForArchiveAsync();

        var dataDir = Path.Combine(cluster.Root, "pitr-direct");
        var port = ArchivingCluster.FreePort();
        var restore = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = cluster.Store, ["FLOYO_DR_COMMAND"] = cluster.Wrapper },
            "restore", "--pitr", "--target-time", Iso(target), "--data-dir", dataDir, "--port", port.ToString(CultureInfo.InvariantCulture), "--start");

        Assert.True(restore.ExitCode == 0, restore.All);
        // pg_verifybackup checked every file against the manifest floyo-dr built.
        Assert.Contains("manifest verified", restore.StdOut);
        Assert.Equal(200L, await cluster.ScalarAsync<long>("SELECT count(*) FROM orders", port));
        Assert.Equal(200, await cluster.ScalarAsync<int>("SELECT max(id) FROM orders", port));
        Assert.Equal(churned, await cluster.ScalarAsync<long>("SELECT count(*) FROM churn", port));
        Assert.Equal(600000L, await cluster.ScalarAsync<long>("SELECT count(*) FROM filler", port));
        Assert.Equal(120L - dropped, await cluster.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname LIKE 'drop\\_me\\_%' AND relkind = 'r'", port));
        // An unlogged table comes back empty (its init fork only), as from pg_basebackup.
        Assert.Equal(0L, await cluster.ScalarAsync<long>("SELECT count(*) FROM scratch", port));
        await cluster.StopServerAsync(dataDir);
    }

    [Fact]
    public async Task Another_cluster_s_directory_or_a_copy_of_the_live_one_is_refused_and_nothing_reaches_the_store()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await using var other = await ArchivingCluster.StartAsync(archiving: false);
        Directory.CreateDirectory(Path.Combine(cluster.Root, "missing-parent"));

        async Task<string> RefusedAsync(string dataDir, int exitCode)
        {
            var result = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url, ["BASE_BACKUP_DATA_DIR"] = dataDir }, "backup", "--base");
            Assert.True(result.ExitCode == exitCode, result.All);
            Assert.Empty(StoredBaseBackups(cluster.Store));
            var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("BASE_BACKUP_DATA_DIR", StringComparison.Ordinal));
            return line;
        }

        // Another server's directory on this host (its own port, start time and system identifier).
        Assert.Contains(other.DataDir, await RefusedAsync(other.DataDir, 5));

        // A copy of the live directory, postmaster.pid and all: only the checkpoint pg_backup_start makes tells it apart.
        var copy = Path.Combine(cluster.Root, "copy");
        var cp = Process.Start(new ProcessStartInfo("cp", ["-a", cluster.DataDir, copy]))!;
        await cp.WaitForExitAsync();
        // cp may complain of a file the server removed meanwhile; the copy has what the checks read.
        Assert.True(File.Exists(Path.Combine(copy, "postmaster.pid")) && File.Exists(Path.Combine(copy, "global", "pg_control")), $"cp -a exited {cp.ExitCode}");
        Assert.Contains("does not hold the checkpoint pg_backup_start just made", await RefusedAsync(copy, 5));
        // The refused backup was aborted on the server: the next one starts cleanly.
        Assert.False(await cluster.ScalarAsync<bool>("SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'client backend' AND query LIKE '%pg_backup_start%' AND pid <> pg_backend_pid()"));

        Assert.Contains("does not exist", await RefusedAsync(Path.Combine(cluster.Root, "missing-parent", "data"), 3));

        var backup = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url, ["BASE_BACKUP_DATA_DIR"] = cluster.DataDir }, "backup", "--base");
        Assert.True(backup.ExitCode == 0, backup.All);
    }
}
