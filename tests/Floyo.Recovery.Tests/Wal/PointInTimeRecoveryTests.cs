using System.Diagnostics;
using System.Globalization;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// One archiving cluster for the class: a base backup taken by floyo-dr as the postgres user, then rows
/// written at t1 &lt; t2 &lt; t3 (100 each), every segment archived by the real archive_command.
/// </summary>
public sealed class ArchivedHistory : IAsyncLifetime
{
    public ArchivingCluster Cluster { get; private set; } = null!;

    /// <summary>A moment after the t2 rows committed and before the t3 rows did.</summary>
    public DateTimeOffset BetweenT2AndT3 { get; private set; }

    public CliResult BaseBackup { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await ArchivingCluster.StartAsync();
        await Cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        BaseBackup = await Cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = Cluster.Url }, "backup", "--base");
        Assert.True(BaseBackup.ExitCode == 0, BaseBackup.All);

        // A writer loop between the marks, so the target falls among commits, not in a quiet archive.
        await Cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(1, 100)");
        await Task.Delay(1100);
        await Cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(101, 200)");
        await Task.Delay(700);
        BetweenT2AndT3 = await Cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()") is var now ? new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc)) : default;
        await Task.Delay(700);
        await Cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(201, 300)");
        await Cluster.SwitchAndWaitForArchiveAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class PointInTimeRecoveryTests(ArchivedHistory history) : IClassFixture<ArchivedHistory>
{
    private ArchivingCluster Cluster => history.Cluster;

    private Dictionary<string, string?> Env(string? store = null) => new()
    {
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = store ?? Cluster.Store,
        ["FLOYO_DR_COMMAND"] = Cluster.Wrapper,
    };

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Recovers_exactly_the_rows_committed_before_the_target_time()
    {
        var dataDir = Path.Combine(Cluster.Root, "pitr-" + Guid.NewGuid().ToString("N")[..8]);
        var port = ArchivingCluster.FreePort();
        var started = Stopwatch.StartNew();

        var restore = await FloyoDr.RunAsync(Env(), "restore", "--pitr", "--target-time", Iso(history.BetweenT2AndT3), "--data-dir", dataDir, "--port", port.ToString(CultureInfo.InvariantCulture), "--start");

        Assert.True(restore.ExitCode == 0, restore.All);
        Assert.Contains("manifest verified", restore.StdOut);
        Assert.Contains("recovered to ", restore.StdOut);
        Assert.Equal(200L, await Cluster.ScalarAsync<long>("SELECT count(*) FROM orders", port));
        Assert.Equal(200, await Cluster.ScalarAsync<int>("SELECT max(id) FROM orders", port));
        Assert.False(await Cluster.ScalarAsync<bool>("SELECT pg_is_in_recovery()", port));
        // The recovered copy does not archive into the archive it came from.
        Assert.Equal("off", await Cluster.ScalarAsync<string>("SHOW archive_mode", port));
        await Cluster.StopServerAsync(dataDir);
        Assert.True(started.Elapsed < TimeSpan.FromMinutes(2), $"PITR took {started.Elapsed}");
    }

    [Fact]
    public async Task A_target_before_the_first_base_backup_or_in_the_future_is_refused_naming_the_recoverable_times_and_nothing_is_written()
    {
        var dataDir = Path.Combine(Cluster.Root, "refused-" + Guid.NewGuid().ToString("N")[..8]);

        var early = await FloyoDr.RunAsync(Env(), "restore", "--pitr", "--target-time", "2020-01-01T00:00:00Z", "--data-dir", dataDir);
        var future = await FloyoDr.RunAsync(Env(), "restore", "--pitr", "--target-time", Iso(DateTimeOffset.UtcNow.AddHours(1)), "--data-dir", dataDir);

        Assert.Equal((int)ErrorKind.RefusedForSafety, early.ExitCode);
        Assert.Contains("is before the earliest base backup; the earliest recoverable time is", early.StdErr);
        Assert.Single(early.StdErr.Trim().Split('\n'));
        Assert.Equal((int)ErrorKind.RefusedForSafety, future.ExitCode);
        Assert.Contains("is in the future; the recoverable times are", future.StdErr);
        Assert.Single(future.StdErr.Trim().Split('\n'));
        Assert.False(Directory.Exists(dataDir));
    }

    [Fact]
    public async Task Wal_verify_proves_the_archive_continuous_and_names_the_first_gap_which_pitr_then_refuses_to_pass()
    {
        var continuous = await FloyoDr.RunAsync(Env(), "wal", "verify");
        Assert.True(continuous.ExitCode == 0, continuous.All);
        Assert.StartsWith("continuous: ", continuous.StdOut);

        // A copy of the archive with one segment in the middle gone.
        var copy = Path.Combine(Cluster.Root, "gap-" + Guid.NewGuid().ToString("N")[..8]);
        CopyDirectory(Cluster.Store, copy);
        var segments = Directory.GetFiles(Path.Combine(copy, "wal"), "*.zst").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var baseStart = (await FloyoDr.RunAsync(Env(copy), "wal", "verify", "--json")).StdOut;
        Assert.True(segments.Count >= 3, string.Join(", ", segments));
        var missing = segments[^2]![..24];
        File.Delete(Path.Combine(copy, "wal", missing + ".zst"));
        File.Delete(Path.Combine(copy, "wal", missing + ".json"));

        var gap = await FloyoDr.RunAsync(Env(copy), "wal", "verify");
        Assert.Equal(1, gap.ExitCode);
        Assert.Contains($"gap: {missing} is missing from the archive", gap.StdOut);
        Assert.Contains(missing, baseStart);

        var past = await FloyoDr.RunAsync(Env(copy), "restore", "--pitr", "--target-time", Iso(history.BetweenT2AndT3), "--data-dir", Path.Combine(copy, "never"));
        Assert.Equal((int)ErrorKind.RefusedForSafety, past.ExitCode);
        Assert.Contains($"past the end of the archive (the archive has a gap at {missing})", past.StdErr);
        Assert.False(Directory.Exists(Path.Combine(copy, "never")));
    }

    [Fact]
    public async Task The_base_backup_records_its_wal_range_and_list_shows_it_as_type_base()
    {
        Assert.Contains("on timeline 1; recoverable from", history.BaseBackup.StdOut);
        var list = await FloyoDr.RunAsync(Env(), "list");
        Assert.True(list.ExitCode == 0, list.All);
        var row = Assert.Single(list.StdOut.Split('\n'), l => l.StartsWith("base/base_", StringComparison.Ordinal));
        Assert.Contains(" base ", row);
        Assert.Matches(@"1: 0/[0-9A-F]+ - 0/[0-9A-F]+", row);
        // The logical dumps' JSON listing is unchanged: base backups are not dumps.
        var json = await FloyoDr.RunAsync(Env(), "list", "--json");
        Assert.Equal("[]", json.StdOut.Trim());
    }

    [Fact]
    public async Task The_server_archives_through_floyo_dr_and_an_identical_re_push_succeeds_while_different_content_is_refused()
    {
        var archived = await Cluster.ScalarAsync<string>("SELECT last_archived_wal FROM pg_stat_archiver");
        var fetched = Path.Combine(Cluster.Root, "fetched-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(fetched);
        var walFile = Path.Combine(fetched, archived);
        var fetch = await FloyoDr.RunAsync(Env(), "wal", "fetch", archived, walFile);
        Assert.True(fetch.ExitCode == 0, fetch.All);
        Assert.Equal(16L * 1024 * 1024, new FileInfo(walFile).Length);

        var again = await FloyoDr.RunAsync(Env(), "wal", "push", walFile);
        Assert.True(again.ExitCode == 0, again.All);

        await using (var stream = new FileStream(walFile, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 1000;
            stream.WriteByte(0x42);
        }
        var different = await FloyoDr.RunAsync(Env(), "wal", "push", walFile);
        Assert.Equal(1, different.ExitCode);
        Assert.Contains($"{archived} is already archived", different.StdErr);
        Assert.Contains("with different content; refusing to overwrite it", different.StdErr);
        // The archived copy is the server's, untouched.
        var refetch = await FloyoDr.RunAsync(Env(), "wal", "fetch", archived, walFile + ".again");
        Assert.True(refetch.ExitCode == 0, refetch.All);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
