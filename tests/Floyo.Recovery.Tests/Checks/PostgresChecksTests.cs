using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Metrics;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.Checks;

/// <summary>
/// The checks against the real PostgreSQL 15 cluster, read through the NOSUPERUSER admin (which holds pg_monitor,
/// as azure_pg_admin does). One class: the slot test's slot must not be seen by the CLI test running beside it.
/// </summary>
public sealed class PostgresChecksTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await _db.ExecuteAsync("CREATE TABLE t (id int, v text); INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _dir.Dispose();
    }

    private string NonSuperuserUrl => TestServers.Url(ManagedScene.Primary, _db.Name);

    private ServiceProvider Engine(Dictionary<string, string?>? extra = null, TimeProvider? clock = null, string? databaseUrl = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = databaseUrl ?? NonSuperuserUrl,
            ["BACKUP_DIR"] = Path.Combine(_dir.Path, "backups"),
            ["FLOYO_WORK_DIR"] = Path.Combine(_dir.Path, "work"),
        };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }
        return Support.Engine.Create(settings, clock);
    }

    private static Task<CheckResult> RunAsync(ServiceProvider engine, string name) =>
        engine.GetServices<ICheck>().Single(c => c.Name == name).RunAsync(CancellationToken.None);

    [Fact]
    public async Task A_primary_without_standbys_is_not_configured_unless_standbys_are_expected()
    {
        await using var plain = Engine();
        var none = await RunAsync(plain, "replication-lag");
        Assert.Equal(CheckStatus.NotConfigured, none.Status);
        Assert.Contains("no standby streams from this server", none.Detail, StringComparison.Ordinal);

        await using var expecting = Engine(new() { ["CHECK_EXPECTED_STANDBYS"] = "1" });
        var missing = await RunAsync(expecting, "replication-lag");
        Assert.Equal(CheckStatus.Finding, missing.Status);
        Assert.Equal(NotificationSeverity.Critical, missing.Severity);
        Assert.Contains("no standby is streaming", missing.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inactive_replication_slot_holding_wal_is_a_warning_read_without_superuser()
    {
        var slot = $"floyo_check_{Guid.NewGuid():N}"[..30];
        await _db.ExecuteAsync($"SELECT pg_create_physical_replication_slot('{slot}', true)");
        try
        {
            await _db.ExecuteAsync("CREATE TABLE more AS SELECT g FROM generate_series(1, 20000) g");
            await using var engine = Engine(new() { ["CHECK_SLOT_RETAINED_MAX_BYTES"] = "1" });
            var result = await RunAsync(engine, "replication-slots");
            Assert.Equal(CheckStatus.Finding, result.Status);
            Assert.Equal(NotificationSeverity.Warning, result.Severity);
            Assert.Contains($"physical slot {slot} is inactive and holds", result.Detail, StringComparison.Ordinal);
            Assert.True(result.Value > 0, $"retained {result.Value}");
        }
        finally
        {
            await _db.ExecuteAsync($"SELECT pg_drop_replication_slot('{slot}')");
        }
        await using var after = Engine();
        Assert.Equal(CheckStatus.NotConfigured, (await RunAsync(after, "replication-slots")).Status);
    }

    [Fact]
    public async Task The_database_size_is_held_to_the_configured_capacity()
    {
        await using var unset = Engine();
        Assert.Equal(CheckStatus.NotConfigured, (await RunAsync(unset, "database-size")).Status);

        await using var roomy = Engine(new() { ["DATABASE_CAPACITY_GB"] = "100" });
        var ok = await RunAsync(roomy, "database-size");
        Assert.Equal(CheckStatus.Ok, ok.Status);
        Assert.InRange(ok.Value!.Value, 0.001, 1);

        // About 1 MiB of capacity for a database of several: over the critical percentage.
        await using var tight = Engine(new() { ["DATABASE_CAPACITY_GB"] = "0.001" });
        var full = await RunAsync(tight, "database-size");
        Assert.Equal(CheckStatus.Finding, full.Status);
        Assert.Equal(NotificationSeverity.Critical, full.Severity);
        Assert.Contains($"database '{_db.Name}' is", full.Detail, StringComparison.Ordinal);
        Assert.Contains("CHECK_DISK_CRITICAL_PERCENT", full.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verified_backup_passes_the_age_and_recovery_point_checks_until_it_is_too_old_and_records_its_metrics()
    {
        using var recorder = new MeterRecorder();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The superuser takes the backup (the test's tables are its own); the checks read through the same engine.
        await using var engine = Engine(clock: clock, databaseUrl: _db.Url);
        var backup = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, CancellationToken.None);
        var entry = await engine.GetRequiredService<BackupCatalog>().FindAsync(backup.Metadata.Name, CancellationToken.None);
        await engine.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, CancellationToken.None);

        var duration = Assert.Single(recorder.Of(DrMetrics.BackupDurationName, "database", _db.Name));
        Assert.InRange(duration.Value, 0.001, 600);
        Assert.Equal(backup.Metadata.SizeBytes, Assert.Single(recorder.Of(DrMetrics.BackupSizeName, "database", _db.Name)).Value);
        Assert.True(Assert.Single(recorder.Of(DrMetrics.BackupCompressionRatioName, "database", _db.Name)).Value > 1);

        var age = await RunAsync(engine, "backup-age");
        var point = await RunAsync(engine, "recovery-point");
        Assert.Equal(CheckStatus.Ok, age.Status);
        Assert.Contains(backup.Metadata.Name, age.Detail, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Ok, point.Status);
        Assert.Contains("needs WAL archiving", point.Detail, StringComparison.Ordinal);
        Assert.NotEmpty(recorder.Of(DrMetrics.RecoveryPointAgeName, "source", "dump"));

        clock.Advance(TimeSpan.FromHours(27));
        var stale = await RunAsync(engine, "backup-age");
        var breached = await RunAsync(engine, "recovery-point");
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Critical), (stale.Status, stale.Severity!.Value));
        Assert.Contains("over CHECK_BACKUP_MAX_AGE 26h00m", stale.Detail, StringComparison.Ordinal);
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Critical), (breached.Status, breached.Severity!.Value));
        Assert.StartsWith("RPO maximum breached", breached.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Floyo_dr_check_exits_0_when_healthy_8_on_a_finding_and_3_on_a_bad_threshold()
    {
        var env = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = NonSuperuserUrl,
            ["BACKUP_DIR"] = Path.Combine(_dir.Path, "cli-backups"),
            // This machine's disk is not under test here (backup-dir-space has its thresholds' own tests).
            ["CHECK_DISK_WARNING_PERCENT"] = "99",
            ["CHECK_DISK_CRITICAL_PERCENT"] = "100",
        };
        var healthy = await FloyoDr.RunAsync(env, "check", "--json");
        Assert.True(healthy.ExitCode == 0, healthy.All);
        var report = JsonDocument.Parse(healthy.StdOut).RootElement;
        Assert.False(report.GetProperty("findings").GetBoolean());
        var statuses = report.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("check").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal(8, statuses.Count);
        Assert.Equal("notConfigured", statuses["database-size"]);
        Assert.Equal("notConfigured", statuses["wal-copies"]);
        Assert.Equal("ok", statuses["backup-dir-space"]);

        var full = await FloyoDr.RunAsync(new Dictionary<string, string?>(env) { ["DATABASE_CAPACITY_GB"] = "0.001" }, "check");
        Assert.True(full.ExitCode == CheckCommandExitCode, full.All);
        Assert.Contains("CRIT database-size", full.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 check(s) found a problem", full.StdOut, StringComparison.Ordinal);

        var bad = await FloyoDr.RunAsync(new Dictionary<string, string?>(env) { ["CHECK_DISK_CRITICAL_PERCENT"] = "90" }, "check");
        Assert.Equal(3, bad.ExitCode);
        Assert.StartsWith("error: CHECK_DISK_WARNING_PERCENT must be above 0", bad.StdErr, StringComparison.Ordinal);
        Assert.Empty(bad.StdOut);
    }

    /// <summary>Documented in the README: a finding exits 8, distinct from every error kind (1-7).</summary>
    private const int CheckCommandExitCode = 8;
}
