using System.Diagnostics;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Tests.Wal;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Checks;

/// <summary>
/// A real streaming standby (pg_basebackup -R of a private primary, started with pg_ctl as postgres): the lag check
/// from both ends, and a paused replay that falls behind.
/// </summary>
public sealed class StandbyReplicationTests
{
    private static Task AsPostgresAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunAsync(environment, ["runuser", "-u", "postgres", "--", .. args]);

    private static async Task RunAsync(IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var info = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var arg in args.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{args[0]} failed: {await stderr}");
    }

    private static Task<CheckResult> LagAsync(string url, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["DATABASE_URL"] = url, ["BACKUP_DIR"] = Path.Combine(Path.GetTempPath(), "floyo-unused-store") };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }
        var engine = Engine.Create(settings);
        return engine.GetServices<ICheck>().Single(c => c.Name == "replication-lag").RunAsync(CancellationToken.None)
            .ContinueWith(t => { engine.Dispose(); return t; }).Unwrap();
    }

    [Fact]
    public async Task The_lag_check_reads_a_streaming_standby_from_both_ends_and_flags_a_replay_that_falls_behind()
    {
        await using var primary = await ArchivingCluster.StartAsync();
        var admin = DatabaseUrl.Parse(primary.Url);
        var standbyDir = Path.Combine(primary.Root, "standby");
        var standbyPort = ArchivingCluster.FreePort();
        Directory.CreateDirectory(standbyDir);
        File.SetUnixFileMode(standbyDir, (UnixFileMode)0b111_000_000);
        await RunAsync(new Dictionary<string, string>(), ["chown", "postgres:postgres", standbyDir]);
        await AsPostgresAsync(new Dictionary<string, string> { ["PGPASSWORD"] = admin.Password! },
            $"{ArchivingCluster.PgBin}/pg_basebackup", "-D", standbyDir, "-h", "127.0.0.1", "-p", primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", admin.Username!, "-R", "-X", "stream");
        // The copy carries the primary's settings (port, archive_command); the standby gets its own and does not archive.
        await File.WriteAllTextAsync(Path.Combine(standbyDir, "postgresql.auto.conf"), $"""
            port = {standbyPort}
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{primary.Sockets}'
            wal_level = replica
            fsync = off
            primary_conninfo = 'host=127.0.0.1 port={primary.Port} user={admin.Username} password={admin.Password} application_name=standby_a'

            """);
        try
        {
            await primary.StartServerAsync(standbyDir);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}\n{await File.ReadAllTextAsync(Path.Combine(primary.Sockets, "standby.log"))}", e);
        }
        await primary.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
        var deadline = Stopwatch.StartNew();
        while (await primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND replay_lsn = pg_current_wal_lsn()") == 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the standby did not catch up within 60 s");
            await Task.Delay(200);
        }

        var fromPrimary = await LagAsync(primary.Url);
        Assert.Equal(CheckStatus.Ok, fromPrimary.Status);
        Assert.Contains("primary with 1 standby(s): standby_a streaming", fromPrimary.Detail, StringComparison.Ordinal);
        var tooFew = await LagAsync(primary.Url, new() { ["CHECK_EXPECTED_STANDBYS"] = "2" });
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Critical), (tooFew.Status, tooFew.Severity!.Value));
        Assert.Contains("1 of CHECK_EXPECTED_STANDBYS 2 standbys are streaming", tooFew.Detail, StringComparison.Ordinal);

        var standbyUrl = primary.UrlOn(standbyPort);
        var caughtUp = await LagAsync(standbyUrl);
        Assert.Equal(CheckStatus.Ok, caughtUp.Status);
        Assert.StartsWith("standby: everything received is replayed", caughtUp.Detail, StringComparison.Ordinal);

        // Replay paused while the primary keeps writing: received but not replayed, older than the limit.
        await primary.ExecuteAsync("SELECT pg_wal_replay_pause()", standbyPort);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await primary.ExecuteAsync("INSERT INTO t SELECT g FROM generate_series(1, 1000) g");
        deadline.Restart();
        while (await primary.ScalarAsync<bool>("SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()", standbyPort))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the standby did not receive the new WAL within 30 s");
            await Task.Delay(200);
        }
        var behind = await LagAsync(standbyUrl, new() { ["CHECK_REPLICATION_LAG_MAX"] = "00:00:01" });
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Warning), (behind.Status, behind.Severity!.Value));
        Assert.StartsWith("standby: replay is", behind.Detail, StringComparison.Ordinal);
        Assert.True(behind.Value >= 2, $"lag {behind.Value}");
        await primary.ExecuteAsync("SELECT pg_wal_replay_resume()", standbyPort);
    }
}
