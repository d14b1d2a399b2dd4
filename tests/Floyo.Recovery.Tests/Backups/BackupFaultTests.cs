using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Backups;

/// <summary>Backups that go wrong leave nothing that looks valid, and the next one succeeds.</summary>
public sealed class BackupFaultTests
{
    [Fact]
    public async Task Pg_dump_killed_halfway_leaves_nothing_visible_and_the_next_backup_succeeds()
    {
        await using var database = await Sample.UsersAsync(20000);
        using var dir = new TempDirectory();
        using var bin = new TempDirectory();
        FakeTools.Write(bin.Path, "pg_dump", $"""
            case "$1" in --version) exec {FakeTools.Which("pg_dump")} --version;; esac
            {FakeTools.Which("pg_dump")} "$@" | head -c 100000
            kill -9 $$
            """);
        var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path, ("PG_BIN_DIR", bin.Path)), "backup", "--full");
        Cli.CliErrorTests.AssertOneLineError(run, "pg_dump failed");

        Assert.Empty(VisibleFiles(dir.Path));
        var list = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "list", "--json");
        Assert.Equal("[]", list.StdOut.Trim());

        var next = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "backup", "--full", "--verify");
        Assert.True(next.ExitCode == 0, next.All);
        Assert.Equal(2, VisibleFiles(dir.Path).Count(f => !f.StartsWith("verifications/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Floyo_dr_killed_mid_backup_leaves_no_valid_backup_and_its_partial_is_cleaned_next_time()
    {
        await using var database = await Sample.UsersAsync(20000);
        using var dir = new TempDirectory();
        using var bin = new TempDirectory();
        // pg_dump that stalls after its first output, so floyo-dr can be killed mid-stream.
        FakeTools.Write(bin.Path, "pg_dump", $"""
            case "$1" in --version) exec {FakeTools.Which("pg_dump")} --version;; esac
            {FakeTools.Which("pg_dump")} "$@" | head -c 50000
            sleep 60
            """);
        using (var process = FloyoDr.Start(CliEnvironment.For(database, dir.Path, ("PG_BIN_DIR", bin.Path)), "backup", "--full"))
        {
            var partial = Path.Combine(dir.Path, ".partial");
            for (var i = 0; i < 100 && !(Directory.Exists(partial) && Directory.GetFiles(partial).Length > 0); i++)
            {
                await Task.Delay(100);
            }
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        Assert.Empty(VisibleFiles(dir.Path));
        var next = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "backup", "--full");
        Assert.True(next.ExitCode == 0, next.All);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, ".partial")));
    }

    [Fact]
    public async Task Full_disk_is_a_clear_error_and_nothing_partial_is_listed()
    {
        await using var database = await Sample.UsersAsync(50000);
        using var dir = new TempDirectory();
        var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir.Path])!;
        await mount.WaitForExitAsync();
        Assert.True(mount.ExitCode == 0, "mounting a small tmpfs needs root (the test suite runs as root)");
        try
        {
            var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "backup", "--full");
            Cli.CliErrorTests.AssertOneLineError(run, "no space left");
            Assert.Empty(VisibleFiles(dir.Path));
            Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, ".partial")));
            var list = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "list", "--json");
            Assert.Equal("[]", list.StdOut.Trim());
        }
        finally
        {
            await Process.Start("umount", ["-l", dir.Path])!.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(120)]
    public async Task Two_backups_of_one_database_at_once_never_collide(int lockWaitSeconds)
    {
        await using var database = await Sample.UsersAsync(100000);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path, ("BACKUP_LOCK_WAIT_SECONDS", lockWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var runs = await Task.WhenAll(FloyoDr.RunAsync(env, "backup", "--full"), FloyoDr.RunAsync(env, "backup", "--full"));

        var succeeded = runs.Where(r => r.ExitCode == 0).ToList();
        Assert.NotEmpty(succeeded);
        foreach (var failed in runs.Where(r => r.ExitCode != 0))
        {
            Cli.CliErrorTests.AssertOneLineError(failed, "holds the lock");
        }
        if (lockWaitSeconds > 0)
        {
            Assert.Equal(2, succeeded.Count);
        }
        var list = await FloyoDr.RunAsync(env, "list", "--json");
        var entries = JsonDocument.Parse(list.StdOut).RootElement.EnumerateArray().ToList();
        Assert.Equal(succeeded.Count, entries.Count);
        Assert.Equal(entries.Count, entries.Select(e => e.GetProperty("name").GetString()).Distinct().Count());
        foreach (var entry in entries)
        {
            var verify = await FloyoDr.RunAsync(env, "verify", "--file", entry.GetProperty("name").GetString()!);
            Assert.True(verify.ExitCode == 0, verify.All);
        }
    }

    [Fact]
    public async Task Counts_come_from_the_dump_snapshot_even_while_the_application_writes()
    {
        await using var database = await Sample.UsersAsync(200000);
        using var dir = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await database.ExecuteAsync("INSERT INTO users (email) SELECT 'w' || gen_random_uuid() || '@example.com' FROM generate_series(1, 50)");
                writes++;
            }
        });
        var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "backup", "--full", "--verify");
        await stop.CancelAsync();
        await writer;
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("verified: restored and matched", run.StdOut, StringComparison.Ordinal);
        Assert.True(writes > 0, "the application kept writing during the backup");
    }

    /// <summary>What a person browsing the store sees, less the workflows' own run records and alerts (a failed run is recorded and alerted, on purpose).</summary>
    private static List<string> VisibleFiles(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.Split('/').Any(s => s.StartsWith('.')) && !f.StartsWith("runs/", StringComparison.Ordinal) && !f.StartsWith("notifications/", StringComparison.Ordinal))];
}
