using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Tests.Wal;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>
/// Production as the plan draws it (a <c>users</c> table whose only index is its primary key) on a real archiving
/// cluster: a base backup, then 250 users, the nightly dump, then 40 more users written after both, archived.
/// </summary>
public sealed class ArchivedProduction : IAsyncLifetime
{
    public ArchivingCluster Cluster { get; private set; } = null!;

    public string Database { get; } = $"app_{Guid.NewGuid():N}"[..14];

    public string Owner { get; } = $"app_owner_{Guid.NewGuid():N}"[..20];

    public DateTimeOffset DumpTakenAt { get; private set; }

    public string DatabaseUrl => Cluster.Url[..Cluster.Url.LastIndexOf('/')] + "/" + Database;

    public async Task InitializeAsync()
    {
        Cluster = await ArchivingCluster.StartAsync();
        await Cluster.ExecuteAsync($"CREATE ROLE {Owner}");
        await Cluster.ExecuteAsync($"CREATE DATABASE {Database} OWNER {Owner}");
        await ExecuteAsync($"SET ROLE {Owner}; CREATE TABLE users (id serial primary key, email text)");
        var baseBackup = await Cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = Cluster.Url }, "backup", "--base");
        Assert.True(baseBackup.ExitCode == 0, baseBackup.All);

        await ExecuteAsync("INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 250) g");
        DumpTakenAt = DateTimeOffset.UtcNow;
        var dump = await Cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = DatabaseUrl }, "backup", "--full");
        Assert.True(dump.ExitCode == 0, dump.All);
        // Forty transactions after the dump: what only the WAL archive still has when the database is damaged.
        for (var i = 1; i <= 40; i++)
        {
            await ExecuteAsync($"INSERT INTO users (email) VALUES ('late{i}@example.com')");
        }
        await Cluster.SwitchAndWaitForArchiveAsync();
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await PgConnector.OpenAsync(Postgres.DatabaseUrl.Parse(DatabaseUrl), default);
        await PgConnector.ExecuteAsync(connection, sql, default);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await using var admin = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
        await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Owner}", default);
    }
}

/// <summary>Drills use point-in-time recovery when the store has a WAL archive.</summary>
public sealed class PitrDrillTests(ArchivedProduction production) : IClassFixture<ArchivedProduction>
{
    private Dictionary<string, string?> Env(string staging, params (string Key, string? Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem",
            ["BACKUP_DIR"] = production.Cluster.Store,
            ["FLOYO_DR_COMMAND"] = production.Cluster.Wrapper,
            ["DATABASE_URL"] = production.DatabaseUrl,
            ["STAGING_DATABASE_URL"] = TestServers.Url(TestServers.Alternate, staging),
        };
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }
        return env;
    }

    [Fact]
    public async Task The_corruption_drill_replays_the_archive_to_just_before_the_damage_and_recovers_the_rows_written_after_the_dump()
    {
        var staging = $"staging_{Guid.NewGuid():N}"[..20];
        var before = Directory.GetDirectories(Path.GetTempPath(), "floyo-drill-pitr-*").Order(StringComparer.Ordinal).ToList();
        try
        {
            var run = await FloyoDr.RunAsync(Env(staging), "drill", "--scenario", "database-corruption", "--json");

            Assert.True(run.ExitCode == 0, run.All);
            var report = JsonDocument.Parse(run.StdOut).RootElement;
            Assert.Equal("passed", report.GetProperty("status").GetString());
            var steps = report.GetProperty("steps").EnumerateArray()
                .Select(s => (Name: s.GetProperty("name").GetString()!, Detail: s.GetProperty("detail").GetString()!)).ToList();
            // The plan's own shape: the primary key is what gets damaged, detected and repaired.
            Assert.Contains(steps, s => s.Name.StartsWith("damage: invalidate", StringComparison.Ordinal) && s.Detail == "invalidated index public.users_pkey");
            Assert.Contains(steps, s => s.Name.StartsWith("damage: truncate", StringComparison.Ordinal) && s.Detail == "truncated public.users; dropped index public.users_pkey");
            Assert.Contains(steps, s => s.Name == "point-in-time recovery available" && s.Detail.StartsWith("base backup base/base_", StringComparison.Ordinal));
            Assert.DoesNotContain(steps, s => s.Name == "not repairable: restore from backup");
            var pitr = Assert.Single(steps, s => s.Name == "not repairable: point-in-time recovery to just before the damage");
            Assert.Contains($"recovered '{production.Database}' from base backup base/base_", pitr.Detail);
            Assert.Contains("+40 rows against the dump (public.users +40)", pitr.Detail);
            Assert.Matches(@"; \d+ transactions replayed since the base backup", pitr.Detail);
            var replayed = int.Parse(System.Text.RegularExpressions.Regex.Match(pitr.Detail, @"; (\d+) transactions replayed").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(replayed >= 41, $"at least the 250-row insert and the 40 late inserts were replayed: {pitr.Detail}");
            Assert.Contains("+ WAL to ", report.GetProperty("backup").GetString());
            Assert.True(report.GetProperty("rpo").GetString() is { } rpo && TimeSpan.Parse(rpo, System.Globalization.CultureInfo.InvariantCulture) < TimeSpan.FromMinutes(5), report.ToString());
        }
        finally
        {
            // The drill dropped staging with the roles it created; a failed run may have left it.
            await using var admin = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {staging} WITH (FORCE)", default);
        }
        // The temporary recovered cluster is stopped and gone.
        Assert.Equal(before, Directory.GetDirectories(Path.GetTempPath(), "floyo-drill-pitr-*").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_recovered_rows_are_on_staging_when_the_drill_keeps_its_copy()
    {
        var staging = $"staging_{Guid.NewGuid():N}"[..20];
        await using var admin = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
        // The owner exists on staging already: the drill creates no role and keeps its copy for inspection.
        await PgConnector.ExecuteAsync(admin, $"DO $$ BEGIN CREATE ROLE {production.Owner}; EXCEPTION WHEN duplicate_object THEN NULL; END $$", default);
        try
        {
            var run = await FloyoDr.RunAsync(Env(staging), "drill", "--scenario", "database-corruption", "--json");

            Assert.True(run.ExitCode == 0, run.All);
            await using var copy = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, staging), default);
            await using var command = new NpgsqlCommand(
                "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM users WHERE email LIKE 'late%') || ' ' || (SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND indisprimary AND indisvalid)", copy);
            Assert.Equal("290 40 1", await command.ExecuteScalarAsync());
            Assert.Equal(production.Owner, await ScalarAsync(copy, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"));
        }
        finally
        {
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {staging} WITH (FORCE)", default);
        }
    }

    [Fact]
    public async Task The_restore_test_passes_on_rpo_from_the_archive_when_the_dump_alone_is_older_than_the_target()
    {
        var staging = $"staging_{Guid.NewGuid():N}"[..20];
        var target = TimeSpan.FromSeconds(30);
        var dumpAge = DateTimeOffset.UtcNow - production.DumpTakenAt;
        if (dumpAge < target + TimeSpan.FromSeconds(10))
        {
            await Task.Delay(target + TimeSpan.FromSeconds(10) - dumpAge);
        }
        // Fresh WAL for the archive (outside the application's database: the other tests count its rows).
        await production.Cluster.ExecuteAsync("CREATE TABLE IF NOT EXISTS rpo_tick (at timestamptz); INSERT INTO rpo_tick VALUES (now())");
        await production.Cluster.SwitchAndWaitForArchiveAsync();
        try
        {
            var run = await FloyoDr.RunAsync(Env(staging, ("RPO_TARGET", "00:00:30")), "drill", "--scenario", "restore-test", "--json");

            Assert.True(run.ExitCode == 0, run.All);
            var report = JsonDocument.Parse(run.StdOut).RootElement;
            Assert.Equal("passed", report.GetProperty("status").GetString());
            var rpo = TimeSpan.Parse(report.GetProperty("rpo").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var restoredAt = report.GetProperty("restorePoint").GetDateTimeOffset();
            var incident = report.GetProperty("incidentAt").GetDateTimeOffset();
            Assert.True(rpo < target, $"RPO {rpo} from the archive");
            // The dump it restored is older than the target: the archive is what met it.
            Assert.True(incident - restoredAt > target, $"the dump is {incident - restoredAt} old at the incident");
        }
        finally
        {
            await using var admin = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {staging} WITH (FORCE)", default);
        }
    }

    [Fact]
    public async Task The_datacenter_outage_drill_replays_the_second_copys_own_base_backup_and_wal_and_a_copy_the_base_backups_never_reached_fails_it()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var staging = $"staging_{tag}";
        var copy = Path.Combine(production.Cluster.Root, $"dc-copy-{tag}");
        // The drill's primary store holds only the dump: no base backup, no WAL. Whatever it replays comes from the copy.
        var primary = Path.Combine(production.Cluster.Root, $"dc-primary-{tag}");
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "filesystem",
            ["BACKUP_DIR"] = primary,
            ["BACKUP_SECONDARY_STORE"] = "filesystem",
            ["BACKUP_SECONDARY_DIR"] = copy,
            ["DATABASE_URL"] = production.DatabaseUrl,
            ["STAGING_DATABASE_URL"] = TestServers.Url(TestServers.Alternate, staging),
        };
        var fromArchive = new Dictionary<string, string?>(env) { ["BACKUP_DIR"] = production.Cluster.Store };
        var fed = await FloyoDr.RunAsync(fromArchive, "wal", "copy");
        Assert.True(fed.ExitCode == 0, fed.All);
        var dump = await FloyoDr.RunAsync(env, "backup", "--full", "--verify");
        Assert.True(dump.ExitCode == 0, dump.All);
        // WAL after the dump (outside the application's database), archived and copied.
        await production.Cluster.ExecuteAsync("CREATE TABLE IF NOT EXISTS rpo_tick (at timestamptz); INSERT INTO rpo_tick VALUES (now())");
        await production.Cluster.SwitchAndWaitForArchiveAsync();
        fed = await FloyoDr.RunAsync(fromArchive, "wal", "copy");
        Assert.True(fed.ExitCode == 0, fed.All);
        // The recovered server fetches from the copy as its own user.
        using (var chown = System.Diagnostics.Process.Start("chown", ["-R", "postgres:postgres", copy]))
        {
            await chown.WaitForExitAsync();
        }
        try
        {
            var run = await FloyoDr.RunAsync(env, "drill", "--scenario", "datacenter-outage", "--json");

            Assert.True(run.ExitCode == 0, run.All);
            var report = JsonDocument.Parse(run.StdOut).RootElement;
            Assert.Equal("passed", report.GetProperty("status").GetString());
            var steps = report.GetProperty("steps").EnumerateArray()
                .Select(s => (Name: s.GetProperty("name").GetString()!, Detail: s.GetProperty("detail").GetString()!)).ToList();
            Assert.Equal(["standby readiness", "choose backup", "restore onto staging", "application login", "point-in-time recovery from the second copy available",
                "point-in-time recovery from the second copy alone", "drop the roles the drill created"], steps.Select(s => s.Name));
            Assert.StartsWith("base backup base/base_", steps[4].Detail, StringComparison.Ordinal);
            Assert.EndsWith($"in the second copy {copy}", steps[4].Detail, StringComparison.Ordinal);
            Assert.Contains($"recovered '{production.Database}' from base backup base/base_", steps[5].Detail, StringComparison.Ordinal);
            var replayed = int.Parse(System.Text.RegularExpressions.Regex.Match(steps[5].Detail, @"; (\d+) transactions replayed").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(replayed >= 41, $"the copy's WAL was replayed: {steps[5].Detail}");
            // The report's recovery point is what was replayed from the copy.
            Assert.Contains(" + WAL to ", report.GetProperty("backup").GetString(), StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(primary, "wal")), "nothing was read from or written to a primary archive");
        }
        finally
        {
            await using var admin = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {staging} WITH (FORCE)", default);
        }

        // A second copy the base backups never reached, while the primary has them: the drill's step fails, naming it.
        var empty = Path.Combine(production.Cluster.Root, $"dc-empty-{tag}");
        Directory.CreateDirectory(empty);
        using var engine = Engine.Create(new Dictionary<string, string?>(fromArchive) { ["BACKUP_SECONDARY_DIR"] = empty });
        var recovery = engine.GetRequiredService<Recovery.Drills.DrillRecovery>();
        var refused = await Assert.ThrowsAnyAsync<RecoveryException>(() => recovery.AvailabilityAsync(Floyo.Recovery.Storage.BackupSource.Secondary, default));
        Assert.Contains($"the second copy {empty} holds none: after losing the primary, point-in-time recovery would be impossible", refused.Message, StringComparison.Ordinal);
        using var fedEngine = Engine.Create(fromArchive);
        Assert.True((await fedEngine.GetRequiredService<Recovery.Drills.DrillRecovery>().AvailabilityAsync(Floyo.Recovery.Storage.BackupSource.Secondary, default)).Available);
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
