using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// A real archiving cluster (archive_command = floyo-dr wal push, as the postgres user) with a base backup and
/// rows written at t1 &lt; t2, every segment archived; then the archive is copied to a second copy on the
/// filesystem by floyo-dr run as the postgres user, as the incremental timer or an operator on that host would.
/// </summary>
public sealed class CopiedArchive : IAsyncLifetime
{
    public ArchivingCluster Cluster { get; private set; } = null!;

    public DateTimeOffset BetweenT1AndT2 { get; private set; }

    public CliResult FirstCopy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await ArchivingCluster.StartAsync();
        await Cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY)");
        var baseBackup = await Cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = Cluster.Url }, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);
        await Cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(1, 100)");
        await Task.Delay(1100);
        BetweenT1AndT2 = new DateTimeOffset(DateTime.SpecifyKind(await Cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()"), DateTimeKind.Utc));
        await Task.Delay(1100);
        await Cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(101, 200)");
        await Cluster.SwitchAndWaitForArchiveAsync();
        // No forced switches from here: the primary's archive holds still while the tests compare it with the copy.
        await Cluster.SetAsync("archive_timeout", "0");
        FirstCopy = await CopyAsync(Copy);
    }

    /// <summary>The second copy: a folder the postgres user owns, as on the off-site host.</summary>
    public string Copy => ServerOwnedFolder("copy");

    public string ServerOwnedFolder(string name)
    {
        var path = Path.Combine(Cluster.Root, name);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path);
            using var chown = Process.Start("chown", ["postgres:postgres", path]);
            chown.WaitForExit();
        }
        return path;
    }

    public Task<CliResult> CopyAsync(string copy, params string[] extra) =>
        Cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["BACKUP_SECONDARY_STORE"] = "filesystem", ["BACKUP_SECONDARY_DIR"] = copy },
            ["wal", "copy", "--json", .. extra]);

    public Dictionary<string, string?> Env(string? primary = null, string? copy = null) => new()
    {
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = primary ?? Cluster.Store,
        ["BACKUP_SECONDARY_STORE"] = "filesystem",
        ["BACKUP_SECONDARY_DIR"] = copy ?? Copy,
        ["DATABASE_URL"] = Cluster.Url,
    };

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class WalCopyTests(CopiedArchive archive) : IClassFixture<CopiedArchive>
{
    private static JsonElement Single(CliResult run)
    {
        Assert.True(run.ExitCode == 0, run.All);
        return Assert.Single(JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray());
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static IEnumerable<string> Objects(string root, string folder) =>
        Directory.Exists(Path.Combine(root, folder))
            ? Directory.GetFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f))
            : [];

    [Fact]
    public async Task Every_segment_and_the_base_backup_reach_the_copy_byte_for_byte_and_a_second_run_copies_nothing()
    {
        var first = Single(archive.FirstCopy);
        Assert.Equal("secondary", first.GetProperty("copy").GetString());
        Assert.Equal(1, first.GetProperty("baseBackupsCopied").GetInt32());
        Assert.Empty(first.GetProperty("conflicts").EnumerateArray());
        Assert.Empty(first.GetProperty("problems").EnumerateArray());

        var primary = Objects(archive.Cluster.Store, "wal").Concat(Objects(archive.Cluster.Store, "base")).Order(StringComparer.Ordinal).ToList();
        Assert.Contains(primary, n => n.EndsWith(".tar.zst", StringComparison.Ordinal));
        Assert.Contains(primary, n => n.EndsWith(".backup.json", StringComparison.Ordinal));
        // Every object in the primary's wal/ and base/ is in the copy with the same bytes (data, records, the base backup's metadata).
        foreach (var name in primary)
        {
            var copied = Path.Combine(archive.Copy, name);
            Assert.True(File.Exists(copied), $"{name} is not in the copy");
            Assert.Equal(Sha(Path.Combine(archive.Cluster.Store, name)), Sha(copied));
        }
        Assert.Equal(primary.Count(n => n.StartsWith("wal/", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal)), first.GetProperty("walFilesCopied").GetInt32());
        var newest = Path.GetFileName(primary.Where(n => n.StartsWith("wal/", StringComparison.Ordinal) && n.EndsWith(".zst", StringComparison.Ordinal) && n.Length == "wal/".Length + 24 + ".zst".Length).Max(StringComparer.Ordinal))![..24];

        // The copy is an archive of its own: proven continuous from its base backup by the same check restore uses.
        using (var engine = Engine.Create(archive.Env()))
        {
            var copy = engine.GetRequiredService<BackupStores>().For(BackupSource.Secondary);
            var wal = new WalArchive(copy, Microsoft.Extensions.Options.Options.Create(new Configuration.BackupOptions()), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<WalArchive>.Instance);
            var report = await new WalContinuity(wal, new BaseBackupCatalog(copy)).CheckAsync(default);
            Assert.True(report.Continuous, string.Join("; ", report.Problems));
            Assert.Equal(newest, report.LastSegment);
        }

        var again = Single(await archive.CopyAsync(archive.Copy));
        Assert.Equal(0, again.GetProperty("walFilesCopied").GetInt32());
        Assert.Equal(0, again.GetProperty("baseBackupsCopied").GetInt32());
        Assert.Equal(0L, again.GetProperty("bytesCopied").GetInt64());
        Assert.True(again.GetProperty("alreadyThere").GetInt32() >= primary.Count(n => n.EndsWith(".zst", StringComparison.Ordinal)));
        // --verify proves every file already there by its SHA-256, and still copies nothing.
        var verified = Single(await archive.CopyAsync(archive.Copy, "--verify"));
        Assert.Equal(0, verified.GetProperty("walFilesCopied").GetInt32());
        Assert.Empty(verified.GetProperty("conflicts").EnumerateArray());

        // list reports the copy's newest segment; the third copy is not configured.
        var list = await FloyoDr.RunAsync(archive.Env(), "list");
        Assert.True(list.ExitCode == 0, list.All);
        Assert.Contains($"WAL in the second copy ({archive.Copy}): current, newest segment {newest}", list.StdOut);
        Assert.Contains("WAL in the third copy: not configured", list.StdOut);
        Assert.DoesNotContain("behind the primary", list.StdOut);
    }

    [Fact]
    public async Task Different_content_under_a_name_the_copy_already_holds_is_refused_and_left_as_it_was()
    {
        var copy = archive.ServerOwnedFolder("tampered");
        var segment = Path.GetFileName(Objects(archive.Cluster.Store, "wal").Where(n => n.EndsWith(".zst", StringComparison.Ordinal) && n.Length == "wal/".Length + 24 + ".zst".Length)
            .Min(StringComparer.Ordinal))!;
        var other = Path.GetFileName(Objects(archive.Cluster.Store, "wal").Where(n => n.EndsWith(".zst", StringComparison.Ordinal) && n.Length == "wal/".Length + 24 + ".zst".Length)
            .Max(StringComparer.Ordinal))!;
        // Another server's segment under this name (data only, as a push that died before its record would leave it).
        var planted = Path.Combine(copy, "wal", segment);
        Directory.CreateDirectory(Path.GetDirectoryName(planted)!);
        File.Copy(Path.Combine(archive.Cluster.Store, "wal", other), planted);
        using (var chown = Process.Start("chown", ["-R", "postgres:postgres", copy]))
        {
            await chown.WaitForExitAsync();
        }
        var before = Sha(planted);

        var run = await archive.CopyAsync(copy);

        Assert.Equal((int)ErrorKind.RefusedForSafety, run.ExitCode);
        Assert.Contains($"wal/{segment} is already in the second copy {copy} with different content", run.StdErr);
        Assert.Contains("refusing to overwrite it", run.StdErr);
        Assert.Equal(before, Sha(planted));
        Assert.False(File.Exists(Path.Combine(copy, "wal", segment[..^".zst".Length] + ".json")), "no record was written for the refused file");
        // Everything else was still copied.
        var result = Assert.Single(JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray());
        Assert.Equal(1, result.GetProperty("conflicts").GetArrayLength());
        Assert.Equal(1, result.GetProperty("baseBackupsCopied").GetInt32());
        Assert.True(File.Exists(Path.Combine(copy, "wal", other)));
    }

    [Fact]
    public async Task A_same_size_change_to_what_a_pitr_from_the_copy_reads_first_is_found_by_the_default_sample_and_the_rest_by_verify()
    {
        // A copy that was good, then decayed (same sizes, other bytes): its newest segment, its oldest, its base backup.
        var copy = archive.ServerOwnedFolder("decayed");
        using (var cp = Process.Start("cp", ["-a", archive.Copy + "/.", copy]))
        {
            await cp.WaitForExitAsync();
        }
        var segments = Objects(copy, "wal").Where(n => n.EndsWith(".zst", StringComparison.Ordinal) && n.Length == "wal/".Length + 24 + ".zst".Length)
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(segments.Count >= 3, string.Join(", ", segments));
        var baseBackup = Assert.Single(Objects(copy, "base"), n => n.EndsWith(".tar.zst", StringComparison.Ordinal));
        foreach (var name in new[] { segments[^1], segments[0], baseBackup })
        {
            await using var file = new FileStream(Path.Combine(copy, name), FileMode.Open, FileAccess.ReadWrite);
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0xFF));
        }
        Task<CliResult> Copy(string? sample, params string[] extra)
        {
            var env = new Dictionary<string, string?> { ["BACKUP_SECONDARY_STORE"] = "filesystem", ["BACKUP_SECONDARY_DIR"] = copy };
            if (sample is not null)
            {
                env["WAL_COPY_VERIFY_SAMPLE"] = sample;
            }
            return archive.Cluster.FloyoDrAsPostgresAsync(env, ["wal", "copy", "--json", .. extra]);
        }
        static List<string> Conflicts(CliResult run) =>
            [.. Assert.Single(JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray()).GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()!)];

        // Sizes only: blind to it.
        var sizes = await Copy("0");
        Assert.True(sizes.ExitCode == 0, sizes.All);
        // The newest segment and the newest base backup, proven on every run: both refused, named, never overwritten.
        var one = await Copy("1");
        Assert.Equal((int)ErrorKind.RefusedForSafety, one.ExitCode);
        var found = Conflicts(one);
        Assert.Equal(2, found.Count);
        Assert.Contains(found, c => c.StartsWith($"{segments[^1]} is already in the second copy {copy} with different content (SHA-256 ", StringComparison.Ordinal));
        Assert.Contains(found, c => c.StartsWith($"{baseBackup} is already in the second copy {copy} with different content (SHA-256 ", StringComparison.Ordinal));
        // The default sample (8) reaches the oldest of this short archive too; --verify reaches everything.
        Assert.Equal(segments.Count <= 8 ? 3 : 2, Conflicts(await Copy(null)).Count);
        Assert.Equal(3, Conflicts(await Copy("1", "--verify")).Count);
        Assert.NotEqual(Sha(Path.Combine(archive.Copy, segments[^1])), Sha(Path.Combine(copy, segments[^1])));
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void A_copy_lacking_wal_the_primary_has_held_past_the_threshold_is_a_finding_older_holes_are_not_lag()
    {
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        string[] primary = ["000000010000000000000003", "000000010000000000000004", "000000010000000000000005", "000000010000000000000006"];
        // The copy's own retention expired segment 3: not lag. It lacks 5 and 6.
        Assert.Equal("000000010000000000000005", WalCopyLagProbe.FirstMissing(primary, ["000000010000000000000004"]));
        Assert.Null(WalCopyLagProbe.FirstMissing(primary, ["000000010000000000000004", "000000010000000000000005", "000000010000000000000006"]));
        Assert.Equal("000000010000000000000003", WalCopyLagProbe.FirstMissing(primary, []));

        var current = WalCopyLagProbe.Judge(BackupSource.Secondary, "/copy", "000000010000000000000006", now, null, null, now, 420);
        Assert.Equal(("current", (string?)null), (current.State, current.Finding));
        var behind = WalCopyLagProbe.Judge(BackupSource.Secondary, "/copy", "000000010000000000000004", now.AddHours(-7), "000000010000000000000005", now.AddHours(-6), now, 420);
        Assert.Equal(("behind", (string?)null, 21600d), (behind.State, behind.Finding, behind.BehindSeconds));
        var lagging = WalCopyLagProbe.Judge(BackupSource.Tertiary, "/far", "000000010000000000000004", now.AddHours(-8), "000000010000000000000005", now.AddHours(-7).AddMinutes(-1), now, 420);
        Assert.Equal("lagging", lagging.State);
        Assert.Equal("the third copy's WAL archive (/far) is 7h01m behind the primary: its newest segment is 000000010000000000000004, while the primary has held 000000010000000000000005 since 2026-12-01T04:59:00.000Z, over WAL_COPY_MAX_LAG_MINUTES (420); run 'floyo-dr wal copy' and check the incremental backups",
            lagging.Finding);
    }
}

/// <summary>
/// The data centre is gone: PITR from the second copy alone, the primary store deleted. The copy was fed only the way
/// production feeds it: by <c>backup --base</c> (the base backup and the WAL so far) and <c>backup --incremental</c>
/// (every segment since, and the incremental record).
/// </summary>
public sealed class PitrFromCopyTests
{
    [Fact]
    public async Task Pitr_from_the_second_copy_fed_by_the_base_and_incremental_backups_with_the_primary_store_deleted_recovers_exactly_the_rows_before_the_target()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        var copy = Path.Combine(cluster.Root, "copy");
        Directory.CreateDirectory(copy);
        await ChownAsync(copy);
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = cluster.Store,
            ["BACKUP_SECONDARY_STORE"] = "filesystem", ["BACKUP_SECONDARY_DIR"] = copy,
            ["DATABASE_URL"] = cluster.Url, ["INCREMENTAL_ARCHIVE_WAIT_SECONDS"] = "60",
        };
        await cluster.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY)");
        var baseBackup = await cluster.FloyoDrAsPostgresAsync(env, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);
        Assert.Matches($@"second copy {copy}: \d+ WAL files, 1 base backups, 0 incremental records copied and verified", baseBackup.StdOut);
        Assert.Single(Directory.GetFiles(Path.Combine(copy, "base"), "*.tar.zst"));

        await cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(1, 100)");
        await Task.Delay(1100);
        var target = new DateTimeOffset(DateTime.SpecifyKind(await cluster.ScalarAsync<DateTime>("SELECT clock_timestamp()"), DateTimeKind.Utc));
        await Task.Delay(1100);
        await cluster.ExecuteAsync("INSERT INTO orders SELECT generate_series(101, 200)");
        var incremental = await FloyoDr.RunAsync(env, "backup", "--incremental");
        Assert.True(incremental.ExitCode == 0, incremental.All);
        Assert.Matches($@"second copy {copy}: [1-9]\d* WAL files, 0 base backups, 1 incremental records copied and verified, \d+ already there; newest segment [0-9A-F]{{24}}", incremental.StdOut);
        // The copy made by this (root) run is handed to the server's user, as the off-site host's files would be its own.
        await ChownAsync(copy);

        // A copy holding another file under a name the archive uses: the incremental is taken, its copy refused (exit 5), nothing overwritten.
        var tampered = Path.Combine(cluster.Root, "tampered");
        var oldest = Directory.GetFiles(Path.Combine(cluster.Store, "wal"), "*.zst").Select(Path.GetFileName).Min(StringComparer.Ordinal)!;
        Directory.CreateDirectory(Path.Combine(tampered, "wal"));
        await File.WriteAllBytesAsync(Path.Combine(tampered, "wal", oldest), [1, 2, 3]);
        var refused = await FloyoDr.RunAsync(new Dictionary<string, string?>(env) { ["BACKUP_SECONDARY_DIR"] = tampered }, "backup", "--incremental");
        Assert.True(refused.ExitCode == (int)ErrorKind.RefusedForSafety, refused.All);
        Assert.StartsWith("incremental base/incremental_", refused.StdOut, StringComparison.Ordinal);
        Assert.Contains($"wal/{oldest} is already in the second copy {tampered} with different content", refused.All);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(tampered, "wal", oldest)));

        await cluster.StopServerAsync(cluster.DataDir);
        Directory.Delete(cluster.Store, recursive: true);
        var dataDir = Path.Combine(cluster.Root, "pitr");
        var port = ArchivingCluster.FreePort();

        // No FLOYO_DR_COMMAND: restore_command carries the copy's settings inline and fetches with --source secondary.
        var restore = await FloyoDr.RunAsync(env, "restore", "--pitr", "--source", "secondary",
            "--target-time", target.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            "--data-dir", dataDir, "--port", port.ToString(CultureInfo.InvariantCulture), "--start");

        Assert.True(restore.ExitCode == 0, restore.All);
        Assert.Contains("manifest verified", restore.StdOut);
        Assert.Equal(100L, await cluster.ScalarAsync<long>("SELECT count(*) FROM orders", port));
        Assert.Equal(100, await cluster.ScalarAsync<int>("SELECT max(id) FROM orders", port));
        Assert.Contains("wal fetch --source secondary", await File.ReadAllTextAsync(Path.Combine(dataDir, "postgresql.auto.conf")));
        Assert.False(Directory.Exists(cluster.Store), "nothing read or recreated the primary store");
        await cluster.StopServerAsync(dataDir);
    }

    private static async Task ChownAsync(string path)
    {
        using var chown = Process.Start("chown", ["-R", "postgres:postgres", path]);
        await chown.WaitForExitAsync();
    }
}

/// <summary>A Blob second copy (Azurite behind the WORM emulator): each copied object carries the primary's retain-until under the copy's own immutability mode.</summary>
public sealed class WalCopyToBlobTests
{
    [Fact]
    public async Task Copied_segments_and_base_backups_keep_the_primary_retain_until_under_the_copy_immutability_mode()
    {
        using var primary = new TempDirectory();
        await using var container = await new BlobTestContainer().CreateAsync();
        var now = new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now);
        var worm = new WormEmulator(clock);
        var settings = new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem", ["BACKUP_DIR"] = primary.Path, ["BACKUP_RETENTION_DAYS"] = "30",
            ["BACKUP_SECONDARY_STORE"] = "blob", ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = container.ConnectionString,
            ["BACKUP_SECONDARY_BLOB_CONTAINER"] = container.Name, ["BACKUP_SECONDARY_IMMUTABILITY_MODE"] = "locked",
        };
        await using var engine = BlobEngine.Create(settings, handler: worm, clock: clock);
        var segments = new[] { "000000010000000000000001", "000000010000000000000002", "000000010000000000000003" };
        foreach (var segment in segments)
        {
            var file = Path.Combine(primary.Path, segment);
            await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(64 * 1024));
            await engine.GetRequiredService<WalArchive>().PushAsync(file, default);
            File.Delete(file);
        }
        // A base backup as BaseBackupRunner leaves it: the tar, then its metadata, retained 40 days.
        var tar = RandomNumberGenerator.GetBytes(200 * 1024);
        var store = engine.GetRequiredService<IBackupStore>();
        var name = "base/base_20261201_015500.tar.zst";
        await store.WriteAllAsync(name, tar, ObjectRetention.None, default);
        var meta = new BaseBackupMetadata(1, name, now.AddMinutes(-5), now.AddMinutes(-4), "0/1000028", "0/1000100", 1, segments[0], 16 * 1024 * 1024,
            "db:5432", "15.8", null, tar.Length, tar.Length, "zstd", Convert.ToHexStringLower(SHA256.HashData(tar)), true, 60, now.AddDays(40));
        await store.WriteAllAsync(BaseBackupCatalog.MetadataOf(name), meta.ToJson(), ObjectRetention.None, default);

        var result = await engine.GetRequiredService<WalCopier>().CopyAsync(BackupSource.Secondary, verify: false, default);

        Assert.True(result.Complete, result.Describe());
        Assert.Equal((3, 1, segments[^1]), (result.WalFilesCopied, result.BaseBackupsCopied, result.NewestSegment));
        var copy = engine.GetRequiredService<BackupStores>().For(BackupSource.Secondary);
        var objects = new List<StoredObject>();
        await foreach (var item in copy.ListAsync("", default))
        {
            objects.Add(item);
        }
        Assert.Equal(8, objects.Count(o => o.Name.StartsWith("wal/", StringComparison.Ordinal) || o.Name.StartsWith("base/", StringComparison.Ordinal)));
        foreach (var item in objects.Where(o => o.Name.StartsWith("wal/", StringComparison.Ordinal)))
        {
            // The filesystem primary keeps no retain-until of its own: the push's (archived at + BACKUP_RETENTION_DAYS) is used.
            Assert.Equal(now.AddDays(30), item.RetainUntil);
            Assert.Equal("Locked", worm.StateOf(item.Name)?.Mode, StringComparer.OrdinalIgnoreCase);
        }
        Assert.All(objects.Where(o => o.Name.StartsWith("base/", StringComparison.Ordinal)), o => Assert.Equal(meta.RetainUntil, o.RetainUntil));

        // Idempotent on Blob too; and the lag probe sees the copy current.
        var again = await engine.GetRequiredService<WalCopier>().CopyAsync(BackupSource.Secondary, verify: true, default);
        Assert.Equal((0, 0, 4), (again.WalFilesCopied, again.BaseBackupsCopied, again.AlreadyThere));
        var states = await engine.GetRequiredService<WalCopyLagProbe>().StatesAsync(default);
        Assert.Equal(["current", "not configured"], states.Select(s => s.State));
    }
}
