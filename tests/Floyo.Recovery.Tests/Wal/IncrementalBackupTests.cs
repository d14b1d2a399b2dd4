using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// <c>floyo-dr backup --incremental</c> on a real archiving cluster (its own, with a base backup and archived
/// history): switch, wait for the segment in the store, prove continuity, record; a gap is a failure naming it.
/// </summary>
public sealed class IncrementalBackupTests(ArchivedHistory history) : IClassFixture<ArchivedHistory>
{
    private ArchivingCluster Cluster => history.Cluster;

    private Dictionary<string, string?> Env(string? store = null) => new()
    {
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = store ?? Cluster.Store,
        ["DATABASE_URL"] = Cluster.Url,
        ["INCREMENTAL_ARCHIVE_WAIT_SECONDS"] = "60",
    };

    [Fact]
    public async Task An_incremental_closes_the_segment_waits_for_it_proves_the_archive_continuous_and_list_shows_it_and_the_recovery_point()
    {
        await Cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(1001, 1100)");
        var first = await FloyoDr.RunAsync(Env(), "backup", "--incremental", "--json");
        Assert.True(first.ExitCode == 0, first.All);
        var one = JsonDocument.Parse(first.StdOut).RootElement;
        Assert.Equal("taken", one.GetProperty("outcome").GetString(), StringComparer.OrdinalIgnoreCase);
        var record = one.GetProperty("record");
        var closed = record.GetProperty("lastSegment").GetString()!;
        // The server archived it through floyo-dr, and it is in the store.
        Assert.True(string.CompareOrdinal(await Cluster.ScalarAsync<string>("SELECT last_archived_wal FROM pg_stat_archiver"), closed) >= 0);
        Assert.True(File.Exists(Path.Combine(Cluster.Store, "wal", closed + ".json")));

        await Cluster.ExecuteAsync("INSERT INTO orders (id) SELECT generate_series(1101, 1200)");
        var second = await FloyoDr.RunAsync(Env(), "backup", "--incremental");
        Assert.True(second.ExitCode == 0, second.All);
        Assert.StartsWith($"incremental base/incremental_", second.StdOut, StringComparison.Ordinal);
        // Each increment starts where the previous one stopped.
        Assert.Contains($"WAL {record.GetProperty("stopLsn").GetString()} - ", second.StdOut, StringComparison.Ordinal);
        Assert.Contains("continuous from base backup base/base_", second.StdOut, StringComparison.Ordinal);

        var list = await FloyoDr.RunAsync(Env(), "list");
        Assert.True(list.ExitCode == 0, list.All);
        var rows = list.StdOut.Split('\n').Where(l => l.StartsWith("base/incremental_", StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count >= 2, list.StdOut);
        Assert.All(rows, r => Assert.Matches(@" incremental .* 1: [0-9A-F]+/[0-9A-F]+ - [0-9A-F]+/[0-9A-F]+, \d{4}-\d\d-\d\dT[\d:.]+Z - \d{4}-\d\d-\d\dT[\d:.]+Z \(from base/base_", r));
        var point = Assert.Single(list.StdOut.Split('\n'), l => l.StartsWith("recovery point: ", StringComparison.Ordinal));
        Assert.Matches(@"^recovery point: \d{4}-\d\d-\d\dT[\d:.]+Z \(WAL archive continuous to [0-9A-F]{24} from base/base_", point);
    }

    [Fact]
    public async Task A_missing_segment_makes_the_incremental_fail_naming_the_first_gap_and_records_nothing()
    {
        // A copy of the store with one archived segment gone; what the server archives meanwhile is copied in as it lands.
        var copy = Path.Combine(Cluster.Root, "gap-" + Guid.NewGuid().ToString("N")[..8]);
        CopyNew(Cluster.Store, copy);
        var segments = Directory.GetFiles(Path.Combine(copy, "wal"), "*.zst").Select(f => Path.GetFileName(f)[..24]).Where(n => !n.Contains('.', StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.True(segments.Count >= 3, string.Join(", ", segments));
        var missing = segments[^2];
        File.Delete(Path.Combine(copy, "wal", missing + ".zst"));
        File.Delete(Path.Combine(copy, "wal", missing + ".json"));

        using var run = FloyoDr.Start(Env(copy), "backup", "--incremental");
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        while (!run.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            CopyNew(Cluster.Store, copy, except: missing);
            await Task.Delay(200);
        }
        await run.WaitForExitAsync();

        Assert.Equal(1, run.ExitCode);
        var error = (await stderr).Trim();
        Assert.Single(error.Split('\n'));
        Assert.Contains($"the WAL archive is not continuous from base backup base/base_", error, StringComparison.Ordinal);
        Assert.Contains($"gap: {missing} is missing from the archive", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(copy, "base"), "incremental_*"));
        Assert.Equal("", (await stdout).Trim());
    }

    private static void CopyNew(string from, string to, string? except = null)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            var target = Path.Combine(to, relative);
            if (relative.StartsWith(".partial", StringComparison.Ordinal) || File.Exists(target) || (except is not null && Path.GetFileName(file).StartsWith(except, StringComparison.Ordinal)))
            {
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                // Data before record, as a push commits them, so a copied record never precedes its data.
                File.Copy(file, target + ".tmp");
                File.Move(target + ".tmp", target);
            }
            catch (IOException)
            {
                // Being written or already copied: the next round takes it.
            }
        }
    }
}

/// <summary>The 6-hourly incremental on the ordinary test servers (archive_mode off, no base backup): said once, never a failure.</summary>
public sealed class IncrementalWithoutArchivingTests
{
    [Fact]
    public async Task Without_archiving_it_is_not_configured_and_for_a_role_that_cannot_change_archive_settings_it_is_not_available_both_exit_0()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(db, dir.Path);

        var admin = await FloyoDr.RunAsync(env, "backup", "--incremental");

        Assert.True(admin.ExitCode == 0, admin.All);
        Assert.StartsWith("incremental: not configured: WAL archiving is not set up", admin.StdOut, StringComparison.Ordinal);
        Assert.Equal("", admin.StdErr.Trim());
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "base")));

        // A managed server's admin: no superuser, no ALTER SYSTEM on archive settings.
        var role = $"floyo_managed_{Guid.NewGuid():N}"[..24];
        var password = Guid.NewGuid().ToString("N");
        await db.ExecuteAsync($"CREATE ROLE {role} LOGIN PASSWORD '{password}'; GRANT CONNECT ON DATABASE {db.Name} TO {role}");
        try
        {
            var managed = new Npgsql.NpgsqlConnectionStringBuilder(db.Connection.ConnectionString) { Username = role, Password = password };
            var managedEnv = new Dictionary<string, string?>(env) { ["DATABASE_URL"] = $"postgresql://{role}:{password}@{managed.Host}:{managed.Port}/{db.Name}" };
            var run = await FloyoDr.RunAsync(managedEnv, "backup", "--incremental");
            Assert.True(run.ExitCode == 0, run.All);
            Assert.StartsWith("incremental: not available on this server:", run.StdOut, StringComparison.Ordinal);
            Assert.Contains("platform's point-in-time restore", run.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain(password, run.All, StringComparison.Ordinal);
        }
        finally
        {
            await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default);
            await PgConnector.ExecuteAsync(connection, $"REVOKE ALL ON DATABASE {db.Name} FROM {role}; DROP ROLE IF EXISTS {role}", default);
        }
    }
}
