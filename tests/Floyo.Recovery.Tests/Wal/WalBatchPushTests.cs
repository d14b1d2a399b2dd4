using System.Diagnostics;
using System.Security.Cryptography;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// wal push --batch and the floyo-wal-push wrapper: one floyo-dr start archives every WAL file PostgreSQL has ready,
/// and PostgreSQL's later archive_command calls for those are answered from their markers in the shell.
/// </summary>
public sealed class WalBatchPushTests
{
    private static string Segment(int n) => $"0000000100000000000000{n:X2}";

    private static string WrapperPath => Path.Combine(AppContext.BaseDirectory, "floyo-wal-push");

    /// <summary>A pg_wal folder as PostgreSQL leaves it: the files, and archive_status with a .ready or .done for each.</summary>
    private static Dictionary<string, byte[]> WalFolder(string pgWal, IEnumerable<int> ready, IEnumerable<int> notReady)
    {
        Directory.CreateDirectory(Path.Combine(pgWal, "archive_status"));
        var contents = new Dictionary<string, byte[]>();
        foreach (var (n, isReady) in ready.Select(n => (n, true)).Concat(notReady.Select(n => (n, false))))
        {
            var bytes = new byte[16 * 1024 * 1024];
            RandomNumberGenerator.Fill(bytes.AsSpan(0, 8192));
            File.WriteAllBytes(Path.Combine(pgWal, Segment(n)), bytes);
            File.WriteAllBytes(Path.Combine(pgWal, "archive_status", Segment(n) + (isReady ? ".ready" : ".done")), []);
            contents[Segment(n)] = bytes;
        }
        return contents;
    }

    private static WalArchiveFromSettings Engine(string store, int batch = 32) => WalArchiveFromSettings.Create(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem",
            ["BACKUP_DIR"] = store,
            ["WAL_PUSH_BATCH_FILES"] = batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build(),
        NullLoggerFactory.Instance);

    private static string[] Listing(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray() : [];

    [Fact]
    [Trait("Tier", "Fast")]
    public async Task A_batch_archives_every_ready_file_marks_the_others_and_leaves_archive_status_to_postgresql()
    {
        using var dir = new TempDirectory();
        var pgWal = Path.Combine(dir.Path, "pg_wal");
        var store = Path.Combine(dir.Path, "store");
        var contents = WalFolder(pgWal, ready: [0x20, 0x21, 0x22], notReady: [0x1F, 0x23]);
        var markers = Path.Combine(pgWal, WalBatchPusher.MarkerFolder);
        Directory.CreateDirectory(markers);
        // A marker for a file PostgreSQL has since archived (.done): of no more use.
        File.WriteAllBytes(Path.Combine(markers, Segment(0x1F)), []);
        var status = Listing(Path.Combine(pgWal, "archive_status"));

        var outcome = await Engine(store).BatchPusher.PushAsync(Path.Combine(pgWal, Segment(0x20)), CancellationToken.None);

        Assert.Equal(PushOutcome.Archived, outcome);
        Assert.Equal(status, Listing(Path.Combine(pgWal, "archive_status")));
        Assert.Equal([Segment(0x21), Segment(0x22)], Listing(markers));
        foreach (var marked in Listing(markers))
        {
            Assert.True(File.GetLastWriteTimeUtc(Path.Combine(markers, marked)) > File.GetLastWriteTimeUtc(Path.Combine(pgWal, marked)));
        }
        var archive = Engine(store).Archive;
        foreach (var n in new[] { 0x20, 0x21, 0x22 })
        {
            Assert.Equal(SHA256.HashData(contents[Segment(n)]), SHA256.HashData((await archive.ReadAsync(Segment(n), CancellationToken.None))!));
        }
        // Not ready: not archived (PostgreSQL has not closed it, or has archived it already).
        Assert.Null(await archive.ReadAsync(Segment(0x23), CancellationToken.None));
        Assert.Null(await archive.ReadAsync(Segment(0x1F), CancellationToken.None));
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public async Task A_batch_takes_at_most_WAL_PUSH_BATCH_FILES_and_a_file_outside_pg_wal_is_pushed_alone()
    {
        using var dir = new TempDirectory();
        var pgWal = Path.Combine(dir.Path, "pg_wal");
        var store = Path.Combine(dir.Path, "store");
        WalFolder(pgWal, ready: [0x30, 0x31, 0x32, 0x33], notReady: []);

        await Engine(store, batch: 2).BatchPusher.PushAsync(Path.Combine(pgWal, Segment(0x31)), CancellationToken.None);

        // The requested file and the oldest other ready one.
        Assert.Equal([Segment(0x30), Segment(0x31)], Listing(Path.Combine(store, "wal")).Where(f => f.EndsWith(".zst", StringComparison.Ordinal)).Select(f => f[..^4]));

        var alone = Path.Combine(dir.Path, "elsewhere");
        Directory.CreateDirectory(alone);
        File.Copy(Path.Combine(pgWal, Segment(0x33)), Path.Combine(alone, Segment(0x33)));
        Assert.Equal(PushOutcome.Archived, await Engine(store).BatchPusher.PushAsync(Path.Combine(alone, Segment(0x33)), CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(alone, WalBatchPusher.MarkerFolder)));
        Assert.DoesNotContain(Segment(0x32) + ".zst", Listing(Path.Combine(store, "wal")));
    }

    /// <summary>The filesystem store, with a hook run as a WAL file's data is written (PostgreSQL closing a segment meanwhile).</summary>
    private sealed class StoreWithHook(IBackupStore inner, Action<string> onWrite) : IBackupStore
    {
        public string Location => inner.Location;
        public Task<IObjectWriter> CreateAsync(string name, ObjectRetention retention, CancellationToken ct) => inner.CreateAsync(name, retention, ct);
        public async Task WriteAllAsync(string name, ReadOnlyMemory<byte> content, ObjectRetention retention, CancellationToken ct)
        {
            await inner.WriteAllAsync(name, content, retention, ct);
            onWrite(name);
        }
        public Task<Stream> OpenReadAsync(string name, CancellationToken ct) => inner.OpenReadAsync(name, ct);
        public Task<StoredObject?> GetAsync(string name, CancellationToken ct) => inner.GetAsync(name, ct);
        public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken ct) => inner.ListAsync(prefix, ct);
        public Task DeleteAsync(string name, CancellationToken ct) => inner.DeleteAsync(name, ct);
        public Task SetLegalHoldAsync(string name, bool hold, CancellationToken ct) => inner.SetLegalHoldAsync(name, hold, ct);
        public Task<IAsyncDisposable> LockAsync(string key, TimeSpan wait, CancellationToken ct) => inner.LockAsync(key, wait, ct);
    }

    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData(32, true)]
    [InlineData(3, false)]
    public async Task Files_that_become_ready_during_a_batch_are_taken_by_a_further_round_within_WAL_PUSH_BATCH_FILES(int batch, bool taken)
    {
        using var dir = new TempDirectory();
        var pgWal = Path.Combine(dir.Path, "pg_wal");
        WalFolder(pgWal, ready: [0x50, 0x51, 0x52], notReady: []);
        var closedMeanwhile = new byte[16 * 1024 * 1024];
        RandomNumberGenerator.Fill(closedMeanwhile.AsSpan(0, 8192));
        var store = new StoreWithHook(new FilesystemStore(Path.Combine(dir.Path, "store")), name =>
        {
            if (name.EndsWith(Segment(0x52) + ".zst", StringComparison.Ordinal) && !File.Exists(Path.Combine(pgWal, Segment(0x53))))
            {
                File.WriteAllBytes(Path.Combine(pgWal, Segment(0x53)), closedMeanwhile);
                File.WriteAllBytes(Path.Combine(pgWal, "archive_status", Segment(0x53) + ".ready"), []);
            }
        });
        var options = new WalOptions { PushBatchFiles = batch };
        var archive = new WalArchive(store, Microsoft.Extensions.Options.Options.Create(new Configuration.BackupOptions()), TimeProvider.System, NullLogger<WalArchive>.Instance);

        await new WalBatchPusher(archive, options, NullLogger<WalBatchPusher>.Instance).PushAsync(Path.Combine(pgWal, Segment(0x50)), CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(pgWal, Segment(0x53))), "the hook ran");
        var markers = Path.Combine(pgWal, WalBatchPusher.MarkerFolder);
        Assert.Equal(taken ? [Segment(0x51), Segment(0x52), Segment(0x53)] : [Segment(0x51), Segment(0x52)], Listing(markers));
        var archived = await archive.ReadAsync(Segment(0x53), CancellationToken.None);
        Assert.Equal(taken ? SHA256.HashData(closedMeanwhile) : null, archived is null ? null : SHA256.HashData(archived));
    }

    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData(null, true)]
    [InlineData("windowLog=17", false)]
    [InlineData("", true)]
    public async Task WAL_PUSH_ZSTD_PARAMETERS_reach_the_archived_frames_and_fetch_reads_them(string? parameters, bool matchesAcross256KiB)
    {
        using var dir = new TempDirectory();
        var pgWal = Path.Combine(dir.Path, "pg_wal");
        Directory.CreateDirectory(pgWal);
        // 256 KiB of noise, again right after it: only a window over 256 KiB finds the repeat.
        var content = new byte[16 * 1024 * 1024];
        RandomNumberGenerator.Fill(content.AsSpan(0, 256 * 1024));
        content.AsSpan(0, 256 * 1024).CopyTo(content.AsSpan(256 * 1024));
        File.WriteAllBytes(Path.Combine(pgWal, Segment(0x60)), content);
        var settings = new Dictionary<string, string?> { ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = Path.Combine(dir.Path, "store") };
        if (parameters is not null)
        {
            settings["WAL_PUSH_ZSTD_PARAMETERS"] = parameters;
        }
        var engine = WalArchiveFromSettings.Create(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), NullLoggerFactory.Instance);

        await engine.Archive.PushAsync(Path.Combine(pgWal, Segment(0x60)), CancellationToken.None);

        var stored = new FileInfo(Path.Combine(dir.Path, "store", "wal", Segment(0x60) + ".zst")).Length;
        Assert.True(matchesAcross256KiB ? stored < 300 * 1024 : stored > 500 * 1024, $"{parameters ?? "default"}: {stored} bytes stored");
        Assert.Equal(content, await engine.Archive.ReadAsync(Segment(0x60), CancellationToken.None));
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void A_bad_WAL_PUSH_ZSTD_PARAMETERS_stops_wal_push_before_anything_is_read()
    {
        var settings = new Dictionary<string, string?> { ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = "/nonexistent/store", ["WAL_PUSH_ZSTD_PARAMETERS"] = "minMatch=2" };
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            WalArchiveFromSettings.Create(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), NullLoggerFactory.Instance));
        Assert.Equal("WAL_PUSH_ZSTD_PARAMETERS: minMatch=2 is out of range (allowed: 3-7)", error.Message);
    }

    [Fact]
    public async Task The_wrapper_acknowledges_only_a_file_marked_after_its_last_change_and_starts_floyo_dr_for_anything_else()
    {
        using var dir = new TempDirectory();
        var pgWal = Path.Combine(dir.Path, "pg_wal");
        WalFolder(pgWal, ready: [0x40, 0x41, 0x42], notReady: []);
        var markers = Path.Combine(pgWal, WalBatchPusher.MarkerFolder);
        Directory.CreateDirectory(markers);
        var starts = Path.Combine(dir.Path, "starts.log");
        // Stands in for floyo-dr to count its starts; the real one runs under PostgreSQL in the next test.
        var command = Path.Combine(dir.Path, "floyo-dr-stand-in");
        // It also shows the tier-1 delay the wrapper sets for the batch (docs/wal-push-batch.md).
        await File.WriteAllTextAsync(command, $"#!/bin/sh\necho \"$* (delay $DOTNET_TC_CallCountingDelayMs)\" >>'{starts}'\n");
        File.SetUnixFileMode(command, (UnixFileMode)0b111_101_101);
        File.WriteAllBytes(Path.Combine(markers, Segment(0x40)), []);
        File.WriteAllBytes(Path.Combine(markers, Segment(0x41)), []);
        // 0x41 changed after its marker: the marker no longer speaks for it.
        File.SetLastWriteTimeUtc(Path.Combine(pgWal, Segment(0x41)), DateTime.UtcNow.AddSeconds(5));

        async Task<int> Wrapper(int n)
        {
            var info = new ProcessStartInfo("/bin/sh") { WorkingDirectory = dir.Path, UseShellExecute = false };
            info.ArgumentList.Add(WrapperPath);
            info.ArgumentList.Add($"pg_wal/{Segment(n)}");
            info.Environment["FLOYO_DR_COMMAND"] = command;
            info.Environment.Remove("DOTNET_TC_CallCountingDelayMs");
            using var process = Process.Start(info)!;
            await process.WaitForExitAsync();
            return process.ExitCode;
        }

        Assert.Equal(0, await Wrapper(0x40));
        Assert.False(File.Exists(starts));
        Assert.False(File.Exists(Path.Combine(markers, Segment(0x40))));

        Assert.Equal(0, await Wrapper(0x41));
        Assert.Equal(0, await Wrapper(0x42));
        Assert.Equal([$"wal push --batch pg_wal/{Segment(0x41)} (delay 10000)", $"wal push --batch pg_wal/{Segment(0x42)} (delay 10000)"], await File.ReadAllLinesAsync(starts));
    }

    [Fact]
    public async Task Segments_piled_up_while_archiving_failed_are_archived_by_one_floyo_dr_start_under_postgresql()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await cluster.SwitchAndWaitForArchiveAsync();
        await cluster.SetAsync("archive_command", "exit 1");
        await cluster.ExecuteAsync("CREATE TABLE pile (id int)");
        var closed = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            await cluster.ExecuteAsync($"INSERT INTO pile VALUES ({i})");
            closed.Add(await cluster.ScalarAsync<string>("SELECT pg_walfile_name(pg_switch_wal())"));
        }
        // Counts floyo-dr starts, then runs the cluster's floyo-dr (the real one, as the postgres user).
        var starts = Path.Combine(cluster.Sockets, "starts.log");
        var counting = Path.Combine(cluster.Root, "counting-floyo-dr.sh");
        await File.WriteAllTextAsync(counting, $"#!/bin/sh\necho \"$*\" >>'{starts}'\nexec '{cluster.Wrapper}' \"$@\"\n");
        File.SetUnixFileMode(counting, (UnixFileMode)0b111_101_101);
        await cluster.SetAsync("archive_command", $"FLOYO_DR_COMMAND='{counting}' /bin/sh '{WrapperPath}' %p");

        await WaitForArchivedAsync(cluster, closed[^1]);

        Assert.Single(await File.ReadAllLinesAsync(starts));
        foreach (var file in closed)
        {
            Assert.True(File.Exists(Path.Combine(cluster.Store, "wal", file + ".json")), $"{file} is not in the store");
        }
        // Every marker was taken by the wrapper as PostgreSQL asked for its file.
        Assert.Empty(Directory.GetFiles(Path.Combine(cluster.DataDir, "pg_wal", WalBatchPusher.MarkerFolder)));
        var fetched = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?>(), "wal", "fetch", closed[^1], Path.Combine(cluster.Sockets, "fetched"));
        Assert.True(fetched.ExitCode == 0, fetched.All);
    }

    private static async Task WaitForArchivedAsync(ArchivingCluster cluster, string file)
    {
        var deadline = Stopwatch.StartNew();
        while (string.CompareOrdinal(await cluster.ScalarAsync<string?>("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") ?? "", file) < 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(120), $"{file} was not archived within 120 s; see {cluster.Sockets}/data.log");
            await Task.Delay(200);
        }
    }
}
