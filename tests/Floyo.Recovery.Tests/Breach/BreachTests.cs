using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Floyo.Recovery.Tests.Breach;

/// <summary>
/// The breach building blocks against a real server and the filesystem store: backups taken "days ago"
/// (a fake clock names them), the application's blue/green roles, and a live application session.
/// </summary>
public sealed class BreachTests
{
    internal static readonly DateTimeOffset Day0 = DateTimeOffset.UtcNow.AddDays(-3).AddMinutes(-30);

    /// <summary>Backups at day 0 (verified), day 1 (verified), day 2 (not verified).</summary>
    internal static async Task<List<BackupEntry>> TakeBackupsAsync(RotationScenario scenario)
    {
        var clock = new FakeTimeProvider(Day0);
        await using var engine = scenario.Engine(graceSeconds: 0, clock: clock);
        var entries = new List<BackupEntry>();
        for (var day = 0; day < 3; day++)
        {
            clock.SetUtcNow(Day0.AddDays(day));
            await scenario.Database.ExecuteAsync($"INSERT INTO notes (body) VALUES ('day {day}')");
            var result = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
            var entry = await engine.GetRequiredService<BackupCatalog>().FindAsync(result.Metadata.Name, default);
            if (day < 2)
            {
                var record = await engine.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, default);
                Assert.True(record.Passed, string.Join("; ", record.Problems));
            }
            entries.Add(entry);
        }
        return entries;
    }

    internal static string At(DateTimeOffset t) => BreachSince.Format(t);

    [Fact]
    public async Task The_newest_verified_backup_before_since_is_chosen_and_bad_since_values_are_refused()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var backups = await TakeBackupsAsync(scenario);
        await using var engine = scenario.Engine(graceSeconds: 0);
        var preflight = engine.GetRequiredService<BreachPreflight>();

        var between = await preflight.CheckAsync(At(Day0.AddDays(1.5)), drill: false, default);
        Assert.Equal(backups[1].Name, between.Backup.Backup);
        Assert.Empty(between.Backup.PassedOver);

        // The day-2 backup is newer but was never verified: passed over, with the reason.
        var recent = await preflight.CheckAsync(At(DateTimeOffset.UtcNow.AddMinutes(-5)), drill: false, default);
        Assert.Equal(backups[1].Name, recent.Backup.Backup);
        Assert.Equal($"{backups[2].Name}: never verified", Assert.Single(recent.Backup.PassedOver));
        Assert.StartsWith("incident-", recent.Incident.Id, StringComparison.Ordinal);
        Assert.Equal(recent.Incident.StartedAt + TimeSpan.FromHours(72), recent.Incident.NotifyBy);

        var before = await Assert.ThrowsAnyAsync<RecoveryException>(() => preflight.CheckAsync(At(Day0.AddHours(-1)), false, default));
        Assert.Contains($"is before every backup of '{scenario.Database.Name}' (the oldest is {backups[0].Name})", before.Message, StringComparison.Ordinal);
        var future = await Assert.ThrowsAnyAsync<RecoveryException>(() => preflight.CheckAsync(At(DateTimeOffset.UtcNow.AddDays(1)), false, default));
        Assert.Contains("in the future", future.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<RecoveryException>(() => preflight.CheckAsync("last tuesday", false, default));
    }

    [Fact]
    public async Task A_backup_flagged_by_anomaly_detection_is_passed_over_until_someone_accepts_it()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var clock = new FakeTimeProvider(Day0);
        await using var engine = scenario.Engine(graceSeconds: 0, clock: clock);
        var selector = engine.GetRequiredService<CleanBackupSelector>();
        await scenario.Database.ExecuteAsync("INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 1000) g");
        var whole = await BackupAndVerifyAsync(engine);
        // Day 1: most of the table is gone (ransomware, a bad script). The backup is complete and even verifies: only anomaly detection sees it.
        clock.SetUtcNow(Day0.AddDays(1));
        await scenario.Database.ExecuteAsync("DELETE FROM notes WHERE id > 50");
        var gutted = await BackupAndVerifyAsync(engine);
        Assert.True(gutted.IsSuspect);
        Assert.True(gutted.Verified);

        var choice = await selector.ChooseAsync(scenario.Database.Name, DateTimeOffset.UtcNow, default);
        Assert.Equal(whole.Name, choice.Backup);
        var passed = Assert.Single(choice.PassedOver);
        Assert.StartsWith($"{gutted.Name}: anomalous (table public.notes fell from 1000 to 50 rows since {whole.Name}", passed, StringComparison.Ordinal);

        // A person vouches for it (the rows were purged on purpose): it is clean again.
        await engine.GetRequiredService<Floyo.Recovery.Anomalies.AcceptanceRecorder>().AcceptAsync(gutted.Name, "carol", "purged test tenants", default);
        Assert.Equal(gutted.Name, (await selector.ChooseAsync(scenario.Database.Name, DateTimeOffset.UtcNow, default)).Backup);

    }

    private static async Task<BackupEntry> BackupAndVerifyAsync(ServiceProvider engine)
    {
        var result = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        var entry = await engine.GetRequiredService<BackupCatalog>().FindAsync(result.Metadata.Name, default);
        Assert.True((await engine.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, default)).Passed);
        return await engine.GetRequiredService<BackupCatalog>().FindAsync(result.Metadata.Name, default);
    }

    [Fact]
    public async Task Isolating_twice_keeps_the_original_state_a_second_incident_inherits_it_and_release_restores_it()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        await scenario.InitAsync(engine);
        await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        var credential = await CurrentCredentialAsync(scenario, engine);
        var before = await AccessAsync(scenario);
        var incident = new Incident(Incident.NewId(DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow, Drill: false);
        var isolator = engine.GetRequiredService<DatabaseIsolator>();

        var first = await isolator.IsolateAsync(incident, default);
        Assert.Equal([scenario.Group], first.Record.RolesWithConnect);
        Assert.True(first.Record.PublicHadConnect);
        Assert.Equal("42501", await scenario.TryLoginAsync(credential));
        Assert.Equal($"GRANT CONNECT ON DATABASE \"{scenario.Database.Name}\" TO \"{scenario.Group}\", PUBLIC", first.Record.ReleaseSql);
        // A rerun (say, after a crash) sees CONNECT already revoked, but keeps the record of how it was.
        var second = await isolator.IsolateAsync(incident, default);
        Assert.Equal(JsonSerializer.Serialize(first.Record), JsonSerializer.Serialize(second.Record));

        // A second incident on the still-isolated database (the first one's approval ran out) inherits the original state.
        var next = incident with { Id = Incident.NewId(DateTimeOffset.UtcNow) };
        var inherited = await isolator.IsolateAsync(next, default);
        Assert.Equal(incident.Id, inherited.Record.InheritedFrom);
        Assert.Equal([scenario.Group], inherited.Record.RolesWithConnect);
        Assert.True(inherited.Record.PublicHadConnect);

        await isolator.ReleaseAsync(next, default);
        Assert.Equal(before, await AccessAsync(scenario));
        Assert.Null(await scenario.TryLoginAsync(credential));
        Assert.True(File.Exists(Path.Combine(scenario.BackupDir, DatabaseIsolator.ReleasedName(next.Id))));
    }

    internal static async Task<DatabaseCredential> CurrentCredentialAsync(RotationScenario scenario, ServiceProvider engine)
    {
        var current = await scenario.Store(engine).GetCurrentAsync(RotationScenario.Secret, default);
        Assert.True(DatabaseCredential.TryParse(current!.Value, out var credential));
        return credential!;
    }

    /// <summary>The database's ACL as text, e.g. {=Tc/admin,admin=CTc/admin,grp=c/admin}.</summary>
    internal static async Task<string> AccessAsync(RotationScenario scenario)
    {
        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        await using var command = new NpgsqlCommand("SELECT coalesce(datacl::text, 'default') FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = scenario.Database.Name } } };
        return (string)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task<int> CountObjectsAsync(ServiceProvider engine)
    {
        var count = 0;
        await foreach (var item in engine.GetRequiredService<IBackupStore>().ListAsync("", default))
        {
            count++;
        }
        return count;
    }

    internal static async Task<string> ReadAsync(IBackupStore store, string name)
    {
        await using var stream = await store.OpenReadAsync(name, default);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
