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

    private static string At(DateTimeOffset t) => BreachSince.Format(t);

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

        var before = await Assert.ThrowsAsync<RecoveryException>(() => preflight.CheckAsync(At(Day0.AddHours(-1)), false, default));
        Assert.Contains($"is before every backup of '{scenario.Database.Name}' (the oldest is {backups[0].Name})", before.Message, StringComparison.Ordinal);
        var future = await Assert.ThrowsAsync<RecoveryException>(() => preflight.CheckAsync(At(DateTimeOffset.UtcNow.AddDays(1)), false, default));
        Assert.Contains("in the future", future.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RecoveryException>(() => preflight.CheckAsync("last tuesday", false, default));
    }

    [Fact]
    public async Task An_anomalous_backup_is_passed_over_and_without_a_verified_one_there_is_a_clear_error()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var backups = await TakeBackupsAsync(scenario);
        await using var engine = scenario.Engine(graceSeconds: 0);
        var flagged = new FlagBackups(backups[1].Name);
        var selector = new CleanBackupSelector(engine.GetRequiredService<BackupCatalog>(), flagged);

        var choice = await selector.ChooseAsync(scenario.Database.Name, DateTimeOffset.UtcNow, default);
        Assert.Equal(backups[0].Name, choice.Backup);
        Assert.Contains($"{backups[1].Name}: anomalous (row counts fell sharply)", choice.PassedOver);

        var none = await Assert.ThrowsAsync<RecoveryException>(() =>
            new CleanBackupSelector(engine.GetRequiredService<BackupCatalog>(), new FlagBackups(backups[0].Name, backups[1].Name)).ChooseAsync(scenario.Database.Name, DateTimeOffset.UtcNow, default));
        Assert.Contains("none of the 3 backups", none.Message, StringComparison.Ordinal);
        Assert.Contains("verify one with 'floyo-dr verify'", none.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("future")]
    [InlineData("before-every-backup")]
    [InlineData("unparseable")]
    public async Task A_rejected_since_isolates_nothing_and_writes_nothing(string kind)
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        await scenario.InitAsync(engine);
        await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        await TakeBackupsAsync(scenario);
        var credential = await CurrentCredentialAsync(scenario, engine);
        var before = await AccessAsync(scenario);
        var objectsBefore = await CountObjectsAsync(engine);

        var since = kind switch
        {
            "future" => At(DateTimeOffset.UtcNow.AddHours(3)),
            "before-every-backup" => At(Day0.AddDays(-1)),
            _ => "2026-02-30 25:00",
        };
        await Assert.ThrowsAsync<RecoveryException>(() => engine.GetRequiredService<BreachRunner>().PrepareAsync(since, drill: false, default));

        Assert.Equal(before, await AccessAsync(scenario));
        Assert.Null(await scenario.TryLoginAsync(credential));
        Assert.Equal(objectsBefore, await CountObjectsAsync(engine));
    }

    [Fact]
    public async Task Containment_captures_evidence_isolates_holds_rotates_and_leaks_no_secret()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 600);
        await scenario.InitAsync(engine);
        await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        await scenario.Store(engine).SetAsync("session-key", RandomSecret.Create(), new Dictionary<string, string> { [SecretTags.Rotation] = SecretTags.Random }, null, default);
        var backups = await TakeBackupsAsync(scenario);
        var compromised = await CurrentCredentialAsync(scenario, engine);
        var attackerSession = scenario.AppConnection(compromised);
        attackerSession.ApplicationName = "attacker-session";
        await using var attacker = new NpgsqlConnection(attackerSession.ConnectionString);
        await attacker.OpenAsync();

        var prep = await engine.GetRequiredService<BreachRunner>().PrepareAsync(At(Day0.AddDays(1.5)), drill: true, default);

        // The clean backup, and what was passed over.
        Assert.Equal(backups[1].Name, prep.Backup.Backup);
        // Isolation ended the attacker's session; the compromised password is dead; the new one authenticates but may not connect.
        Assert.True(prep.Isolation.SessionsEnded >= 1);
        Assert.Empty(prep.Isolation.StillCanConnect);
        await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var command = new NpgsqlCommand("SELECT 1", attacker);
            await command.ExecuteScalarAsync();
        });
        Assert.Equal("28P01", await scenario.TryLoginAsync(compromised));
        var rotated = await CurrentCredentialAsync(scenario, engine);
        Assert.NotEqual(compromised.Username, rotated.Username);
        Assert.Equal("42501", await scenario.TryLoginAsync(rotated));
        Assert.Contains(prep.Rotations, r => r.Secret == "session-key");
        Assert.Single(await scenario.EnabledCredentialsAsync(scenario.Store(engine)));

        // Evidence: as found (the attacker's session is in it), held, and every file's checksum in the manifest.
        var store = engine.GetRequiredService<IBackupStore>();
        var sessions = await ReadAsync(store, prep.EvidenceAtDetection.Files.Single(f => f.Name.EndsWith("/sessions.json", StringComparison.Ordinal)).Name);
        Assert.Contains("attacker-session", sessions, StringComparison.Ordinal);
        Assert.Contains(compromised.Username, sessions, StringComparison.Ordinal);
        foreach (var manifest in new[] { prep.EvidenceAtDetection, prep.EvidenceAfterContainment })
        {
            foreach (var file in manifest.Files)
            {
                var bytes = Encoding.UTF8.GetBytes(await ReadAsync(store, file.Name));
                Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
                Assert.True((await store.GetAsync(file.Name, default))!.LegalHold, $"{file.Name} is not under legal hold");
                await Assert.ThrowsAsync<ObjectProtectedException>(() => store.DeleteAsync(file.Name, default));
            }
            Assert.True((await store.GetAsync($"{prep.Incident.EvidencePrefix}{manifest.CaptureId}/manifest.json", default))!.LegalHold);
        }
        var roles = await ReadAsync(store, prep.EvidenceAtDetection.Files.Single(f => f.Name.EndsWith("/roles-and-grants.json", StringComparison.Ordinal)).Name);
        Assert.Contains(scenario.Blue, roles, StringComparison.Ordinal);
        Assert.DoesNotContain("SCRAM-SHA-256", roles, StringComparison.Ordinal);
        var timeline = await ReadAsync(store, prep.EvidenceAfterContainment.Files.Single(f => f.Name.EndsWith("/timeline.json", StringComparison.Ordinal)).Name);
        Assert.Contains("credential-rotated", timeline, StringComparison.Ordinal);

        // Backups from the last one before --since onward are held; older ones are not.
        var catalog = await engine.GetRequiredService<BackupCatalog>().ListAsync(default);
        Assert.False(catalog.Single(b => b.Name == backups[0].Name).LegalHold);
        Assert.True(catalog.Single(b => b.Name == backups[1].Name).LegalHold);
        Assert.True(catalog.Single(b => b.Name == backups[2].Name).LegalHold);
        Assert.Equal([backups[1].Name, backups[2].Name], prep.Holds.Backups);
        Assert.Contains(prep.Holds.Objects, o => o.StartsWith(VerificationRecord.Prefix + backups[1].Name, StringComparison.Ordinal));

        // The post-mortem skeleton carries the timeline and the deadline.
        var postMortem = await engine.GetRequiredService<PostMortemWriter>().WriteAsync(new PostMortemInput(prep.Incident, prep.Timeline, prep.Backup, prep.Isolation, prep.Rotations, prep.EvidenceAfterContainment, prep.Holds), default);
        var markdown = await ReadAsync(store, postMortem);
        Assert.Contains($"# Post-mortem: breach drill {prep.Incident.Id}", markdown, StringComparison.Ordinal);
        Assert.Contains($"| GDPR notification due (72 h, Art. 33) | {At(prep.Incident.NotifyBy)} |", markdown, StringComparison.Ordinal);
        Assert.Contains("| isolated |", markdown, StringComparison.Ordinal);
        Assert.Contains(backups[1].Name, markdown, StringComparison.Ordinal);
        Assert.Equal(postMortem, await engine.GetRequiredService<PostMortemWriter>().WriteAsync(new PostMortemInput(prep.Incident, []), default));

        // No value the store ever held appears in evidence, timeline, post-mortem or logs.
        var everything = new StringBuilder(scenario.Logs.All).AppendLine(markdown).AppendLine(JsonSerializer.Serialize(prep));
        await foreach (var item in store.ListAsync("", default))
        {
            if (item.Name.StartsWith("evidence/", StringComparison.Ordinal) || item.Name.StartsWith("incidents/", StringComparison.Ordinal))
            {
                everything.AppendLine(await ReadAsync(store, item.Name));
            }
        }
        var secrets = await scenario.AllSecretValuesAsync(scenario.Store(engine));
        Assert.True(secrets.Count >= 6);
        foreach (var secret in secrets)
        {
            Assert.False(everything.ToString().Contains(secret, StringComparison.Ordinal), "a secret value appeared in the breach output");
        }

        // Resuming writes restores access exactly as it was: the rotated credential connects again.
        await engine.GetRequiredService<DatabaseIsolator>().ReleaseAsync(prep.Incident.Id, default);
        Assert.Null(await scenario.TryLoginAsync(rotated));
        Assert.Equal("28P01", await scenario.TryLoginAsync(compromised));
    }

    [Fact]
    public async Task Isolating_twice_keeps_the_original_state_and_release_restores_it()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        await scenario.InitAsync(engine);
        await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        var credential = await CurrentCredentialAsync(scenario, engine);
        var before = await AccessAsync(scenario);
        var incident = new Incident(Incident.NewId(DateTimeOffset.UtcNow), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow, Drill: true);
        var isolator = engine.GetRequiredService<DatabaseIsolator>();

        var first = await isolator.IsolateAsync(incident, default);
        Assert.Equal([scenario.Group], first.Record.RolesWithConnect);
        Assert.True(first.Record.PublicHadConnect);
        Assert.Equal("42501", await scenario.TryLoginAsync(credential));
        // A rerun (say, after a crash) sees CONNECT already revoked, but keeps the record of how it was.
        var second = await isolator.IsolateAsync(incident, default);
        Assert.Equal(JsonSerializer.Serialize(first.Record), JsonSerializer.Serialize(second.Record));
        Assert.Equal([scenario.Group], second.Record.RolesWithConnect);

        await isolator.ReleaseAsync(incident.Id, default);
        Assert.Equal(before, await AccessAsync(scenario));
        Assert.Null(await scenario.TryLoginAsync(credential));
    }

    private static async Task<DatabaseCredential> CurrentCredentialAsync(RotationScenario scenario, ServiceProvider engine)
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

    private static async Task<int> CountObjectsAsync(ServiceProvider engine)
    {
        var count = 0;
        await foreach (var item in engine.GetRequiredService<IBackupStore>().ListAsync("", default))
        {
            count++;
        }
        return count;
    }

    private static async Task<string> ReadAsync(IBackupStore store, string name)
    {
        await using var stream = await store.OpenReadAsync(name, default);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    private sealed class FlagBackups(params string[] names) : IBackupAnomalyCheck
    {
        public Task<IReadOnlyList<string>> FindAnomaliesAsync(BackupEntry backup, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<string>>(names.Contains(backup.Name) ? ["row counts fell sharply"] : []);
    }
}
