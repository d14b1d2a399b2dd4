using System.Text.Json;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Breach;

/// <summary>
/// What a crash at any point of the breach workflow leaves behind is an activity that ran (perhaps
/// half-way) and runs again on the next host. The in-process Durable host keeps its task hub in memory,
/// so a crash across hosts cannot be staged here; instead every activity of the workflow is run twice,
/// as a resumed orchestration would run it, and must converge on the same state.
/// </summary>
public sealed class BreachStepTests
{
    [Fact]
    public async Task Every_breach_activity_run_twice_converges()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using var engine = scenario.Engine(graceSeconds: 0);
        await scenario.InitAsync(engine);
        await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        var backups = await BreachTests.TakeBackupsAsync(scenario);
        await scenario.Database.ExecuteAsync("INSERT INTO notes (body) SELECT 'written by the attacker' FROM generate_series(1, 25)");
        var grantsBefore = await GranteesAsync(scenario);
        var store = engine.GetRequiredService<IBackupStore>();

        var check = await TwiceAsync<CheckBreachActivity, BreachRecoveryInput, BreachCheck>(engine,
            new BreachRecoveryInput(BreachTests.At(BreachTests.Day0.AddDays(1.5)), "test", "alice"), (a, b) => Assert.Equal(a.Backup.Backup, b.Backup.Backup));
        var incident = check.Incident;
        Assert.Equal(backups[1].Name, check.Backup.Backup);

        var evidence = await TwiceAsync<CaptureEvidenceActivity, EvidenceInput, EvidenceManifest>(engine, new EvidenceInput(incident, [], "detection"),
            (a, b) => Assert.Equal(JsonSerializer.Serialize(a), JsonSerializer.Serialize(b)));
        Assert.Equal("detection", evidence.CaptureId);
        Assert.Equal(5, await CountAsync(store, incident.EvidencePrefix));

        var isolation = await TwiceAsync<IsolateDatabaseActivity, Incident, IsolationResult>(engine, incident,
            (a, b) => Assert.Equal(JsonSerializer.Serialize(a.Record), JsonSerializer.Serialize(b.Record)));
        Assert.Equal([scenario.Group], isolation.Record.RolesWithConnect);

        await TwiceAsync<HoldBackupsActivity, BreachRestoreInput, HeldBackups>(engine, new BreachRestoreInput(incident, check.Backup.Backup), (a, b) => Assert.Equal(a.Objects, b.Objects));
        await TwiceAsync<FindManagedCredentialsActivity, Incident, ManagedCredentials>(engine, incident, (a, b) => Assert.Equal(a.CurrentRole, b.CurrentRole));

        var restoreInput = new BreachRestoreInput(incident, check.Backup.Backup);
        await TwiceAsync<RestoreCleanBackupActivity, BreachRestoreInput, RestoreResult>(engine, restoreInput, (a, b) => Assert.Equal(a.TargetDatabase, b.TargetDatabase));
        // Restored twice: the attacker's rows are gone, no staging copy is left, and the database is still closed.
        Assert.Equal(2L, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM notes"));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname LIKE '{scenario.Database.Name}\\_floyo%'"));
        // The compromised database was kept once, as the first run found it (the second run replaced only the first run's copy).
        var kept = CompromisedDatabase.NameFor(scenario.Database.Name, incident);
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname LIKE '{scenario.Database.Name}\\_breach\\_%'"));
        await using (var aside = await Postgres.PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Primary, kept), default))
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM notes WHERE body = 'written by the attacker'", aside))
        {
            Assert.Equal(25L, await count.ExecuteScalarAsync());
        }
        var verification = await TwiceAsync<VerifyBreachRestoreActivity, BreachRestoreInput, BreachVerification>(engine, restoreInput, (a, b) => Assert.Equal(a.Passed, b.Passed));
        Assert.True(verification.Passed, string.Join("; ", verification.Problems.Concat(verification.StillCanConnect)));

        await TwiceAsync<ReleaseIsolationActivity, Incident, IsolationRecord?>(engine, incident, (a, b) => Assert.Equal(a?.IncidentId, b?.IncidentId));
        Assert.Equal(grantsBefore, await GranteesAsync(scenario));
        Assert.Null(await scenario.TryLoginAsync(await BreachTests.CurrentCredentialAsync(scenario, engine)));

        var postMortem = await TwiceAsync<WritePostMortemActivity, PostMortemInput, string>(engine, new PostMortemInput(incident, [new TimelineEntry(DateTimeOffset.UtcNow, "started", "x")]), Assert.Equal);
        Assert.True((await store.GetAsync(postMortem, default))!.LegalHold);
        var gdpr = new GdprRecordInput(incident, new GdprNotificationResult("dana", DateTimeOffset.UtcNow, true, 2, null));
        await TwiceAsync<RecordGdprAcknowledgementActivity, GdprRecordInput, string>(engine, gdpr, Assert.Equal);

        var notification = new Notification("step-test-1", NotificationSeverity.Warning, "title", "text", DateTimeOffset.UtcNow);
        await TwiceAsync<NotifyActivity, Notification, NotificationReceipt>(engine, notification, (a, b) => Assert.True(b.AlreadySent));
        Assert.Equal(1, await CountAsync(store, "notifications/"));
    }

    /// <summary>Runs one activity class, resolved as the Durable worker would, twice with the same input.</summary>
    private static async Task<TOut> TwiceAsync<TActivity, TIn, TOut>(ServiceProvider engine, TIn input, Action<TOut, TOut> same)
        where TActivity : TaskActivity<TIn, TOut>
    {
        var activity = ActivatorUtilities.CreateInstance<TActivity>(engine);
        var context = new Context(typeof(TActivity).Name);
        var first = await activity.RunAsync(context, input);
        var second = await ActivatorUtilities.CreateInstance<TActivity>(engine).RunAsync(context, input);
        same(first, second);
        return second;
    }

    private static async Task<List<string>> GranteesAsync(RotationScenario scenario)
    {
        await using var admin = await Postgres.PgConnector.OpenAsync(TestServers.Primary, default);
        return [.. await Floyo.Recovery.Access.ConnectGate.ReadHoldersAsync(admin, scenario.Database.Name, default)];
    }

    private static async Task<T> ScalarAsync<T>(string sql)
    {
        await using var admin = await Postgres.PgConnector.OpenAsync(TestServers.Primary, default);
        await using var command = new NpgsqlCommand(sql, admin);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<int> CountAsync(IBackupStore store, string prefix)
    {
        var count = 0;
        await foreach (var _ in store.ListAsync(prefix, default))
        {
            count++;
        }
        return count;
    }

    private sealed class Context(string name) : TaskActivityContext
    {
        public override TaskName Name => new(name);

        public override string InstanceId => "step-test";
    }
}
