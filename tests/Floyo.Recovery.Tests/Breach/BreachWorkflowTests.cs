using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Floyo.Recovery.Tests.Breach;

/// <summary>
/// The breach-recovery orchestration end to end on the in-process Durable host, over a real server, the
/// filesystem store, the owner-only secrets file, and a real HTTP server standing in for PagerDuty and Slack.
/// </summary>
public sealed class BreachWorkflowTests
{
    private const string Pager = "v2/enqueue";
    private const string Chat = "services/T01/B02/chat-webhook-secret-path";
    private const string RoutingKey = "routing-key-of-the-pager-0001";
    private static readonly RetrySettings Fast = new(3, TimeSpan.FromSeconds(1), 1.0);

    /// <summary>The application as it was before the breach: managed credentials, a tagged random secret, three backups, then the attacker.</summary>
    private sealed class World : IAsyncDisposable
    {
        public required RotationScenario Scenario { get; init; }

        public required WebhookRecorder Hooks { get; init; }

        public required DurableTaskTestHost Host { get; init; }

        public required ServiceProvider Reader { get; init; }

        public required List<BackupEntry> Backups { get; init; }

        public required DatabaseCredential Compromised { get; init; }

        public required NpgsqlConnection AttackerSession { get; init; }

        public required List<string> GranteesBefore { get; init; }

        public IBackupStore Store => Reader.GetRequiredService<IBackupStore>();

        public static async Task<World> CreateAsync(params (string Key, string? Value)[] extra)
        {
            var scenario = await RotationScenario.CreateAsync();
            await using (var engine = scenario.Engine(graceSeconds: 0))
            {
                await scenario.InitAsync(engine);
                await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
                await scenario.Store(engine).SetAsync("session-key", RandomSecret.Create(), new Dictionary<string, string> { [SecretTags.Rotation] = SecretTags.Random }, null, default);
            }
            var backups = await BreachTests.TakeBackupsAsync(scenario);
            var reader = scenario.Engine(graceSeconds: 0);
            var compromised = await BreachTests.CurrentCredentialAsync(scenario, reader);
            // After the last backup the attacker writes, and stays connected with the stolen credential.
            await scenario.Database.ExecuteAsync("INSERT INTO notes (body) SELECT 'planted ' || g FROM generate_series(1, 40) g");
            var session = scenario.AppConnection(compromised);
            session.ApplicationName = "attacker-session";
            var attacker = new NpgsqlConnection(session.ConnectionString);
            await attacker.OpenAsync();
            var hooks = new WebhookRecorder();
            var host = await WorkflowTests.StartHostAsync(scenario, 600, [
                ("BREACH_APPROVAL_TIMEOUT", "00:02:00"),
                ("BREACH_REMINDER_INTERVAL", "00:00:02"),
                ("NOTIFY_PAGERDUTY_URL", hooks.Url(Pager)),
                ("NOTIFY_PAGERDUTY_ROUTING_KEY", RoutingKey),
                ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(Chat)),
                .. extra]);
            return new World
            {
                Scenario = scenario, Hooks = hooks, Host = host, Reader = reader, Backups = backups, Compromised = compromised, AttackerSession = attacker,
                GranteesBefore = await GranteesAsync(scenario.Database.Name),
            };
        }

        public async Task<string> StartAsync(string since, string id, bool drill = false) =>
            await Host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BreachRecoveryOrchestrator),
                new BreachRecoveryInput(since, "customer data seen on a paste site", "alice", drill, Retry: Fast), new StartOrchestrationOptions(id));

        public async Task<OrchestrationMetadata> WaitForStageAsync(string id, string stage, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
            while (true)
            {
                var state = await Host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
                if (state?.SerializedCustomStatus?.Contains($"\"{stage}\"", StringComparison.Ordinal) == true)
                {
                    return state;
                }
                Assert.False(state?.IsCompleted == true, $"{id} ended as {state?.RuntimeStatus} ({state?.FailureDetails?.ErrorMessage}) before reaching {stage}");
                Assert.True(DateTime.UtcNow < deadline, $"{id} never reached {stage}; last status {state?.SerializedCustomStatus}");
                await Task.Delay(100);
            }
        }

        public async Task<OrchestrationMetadata> WaitAsync(string id)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            return await Host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        }

        public async Task<long> NotesAsync() => await Scenario.Database.ScalarAsync<long>("SELECT count(*) FROM notes");

        public async Task<DatabaseCredential> CurrentAsync() => await BreachTests.CurrentCredentialAsync(Scenario, Reader);

        /// <summary>Every text the workflow produced that a person or a machine could read.</summary>
        public async Task<string> EverythingAsync(params string?[] more)
        {
            var all = new StringBuilder(Scenario.Logs.All);
            foreach (var text in more)
            {
                all.AppendLine(text);
            }
            foreach (var post in Hooks.Posts)
            {
                // PagerDuty requires its routing key in the body of the pager's own posts; nothing else may carry it.
                all.AppendLine(post.Path == "/" + Pager ? post.Body.Replace($"\"routing_key\":\"{RoutingKey}\"", "", StringComparison.Ordinal) : post.Body);
            }
            await foreach (var item in Store.ListAsync("", default))
            {
                if (!BackupName.LooksLikeBackup(item.Name) && !item.Name.EndsWith(BackupName.MetadataSuffix, StringComparison.Ordinal))
                {
                    all.AppendLine(await BreachTests.ReadAsync(Store, item.Name));
                }
            }
            return all.ToString();
        }

        public async Task AssertNoSecretInAsync(string everything)
        {
            var secrets = await Scenario.AllSecretValuesAsync(Scenario.Store(Reader));
            Assert.True(secrets.Count >= 6, $"only {secrets.Count} secret values to look for");
            foreach (var secret in secrets)
            {
                Assert.False(everything.Contains(secret, StringComparison.Ordinal), "a secret value appeared in the breach workflow's output");
            }
            Assert.DoesNotContain(Chat, everything, StringComparison.Ordinal);
            Assert.DoesNotContain(RoutingKey, everything, StringComparison.Ordinal);
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await AttackerSession.DisposeAsync();
            await Hooks.DisposeAsync();
            await Reader.DisposeAsync();
            await Scenario.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_breach_is_contained_restored_from_the_clean_backup_after_approval_reopened_reminded_and_written_up()
    {
        await using var world = await World.CreateAsync();
        var id = await world.StartAsync(BreachTests.At(BreachTests.Day0.AddDays(1.5)), "breach-happy");

        // Contained, waiting for a second person, the chosen backup on show.
        var waiting = await world.WaitForStageAsync(id, BreachStages.AwaitingApproval);
        var progress = JsonSerializer.Deserialize<BreachProgress>(waiting.SerializedCustomStatus!)!;
        Assert.Equal(world.Backups[1].Name, progress.Backup!.Backup);
        Assert.Empty(progress.Backup.PassedOver);
        Assert.Equal(world.Scenario.Database.Name, progress.Target!.Database);
        Assert.NotNull(progress.ApprovalDeadline);
        Assert.StartsWith("GRANT CONNECT ON DATABASE", progress.ReleaseSql, StringComparison.Ordinal);
        var rotated = await world.CurrentAsync();
        Assert.NotEqual(world.Compromised.Username, rotated.Username);
        Assert.Equal("28P01", await world.Scenario.TryLoginAsync(world.Compromised));
        Assert.Equal("42501", await world.Scenario.TryLoginAsync(rotated));
        await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var command = new NpgsqlCommand("SELECT 1", world.AttackerSession);
            await command.ExecuteScalarAsync();
        });
        Assert.Equal(43, await world.NotesAsync());

        // The requester cannot approve; someone else can.
        await world.Host.Client.RaiseEventAsync(id, BreachRecoveryOrchestrator.ApprovalEvent, new Approval(" ALICE "));
        await world.Host.Client.RaiseEventAsync(id, BreachRecoveryOrchestrator.ApprovalEvent, new Approval("bob", "checked the paste"));
        var recovered = await world.WaitForStageAsync(id, BreachStages.AwaitingGdprNotification);
        Assert.Contains("\"Recovered\"", recovered.SerializedCustomStatus, StringComparison.Ordinal);

        // Restored to the clean point (the attacker's rows are gone) and reopened to the rotated credential only.
        Assert.Equal(2, await world.NotesAsync());
        Assert.Null(await world.Scenario.TryLoginAsync(rotated));
        Assert.Equal("28P01", await world.Scenario.TryLoginAsync(world.Compromised));
        Assert.Equal(world.GranteesBefore, await GranteesAsync(world.Scenario.Database.Name));

        // Reminders arrive on the durable timer until someone acknowledges the notification.
        await world.Hooks.WaitForAsync(Chat, p => p.Body.Contains("GDPR notification due", StringComparison.Ordinal), 2, TimeSpan.FromSeconds(30));
        await world.Host.Client.RaiseEventAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), GdprReminderOrchestrator.AcknowledgementEvent, new GdprAcknowledgement("dana", "authority notified, ref 2026-17"));
        var done = await world.WaitAsync(id);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);
        var report = done.ReadOutputAs<BreachReport>()!;

        Assert.Equal(BreachOutcome.Recovered, report.Outcome);
        Assert.Equal("bob", report.ApprovedBy);
        Assert.True(report.WritesResumed);
        Assert.Null(report.Error);
        Assert.Equal(world.Backups[1].Name, report.Restored!.Backup);
        Assert.True(report.Verification!.Passed);
        Assert.Equal("dana", report.Gdpr!.AcknowledgedBy);
        Assert.True(report.Gdpr.WithinDeadline);
        Assert.True(report.Gdpr.RemindersSent >= 2);
        Assert.Equal(report.StartedAt + TimeSpan.FromHours(72), report.NotifyBy);
        Assert.Contains(report.Credentials!.Rotated, r => r.Kind == RotationKind.PostgresLogin && r.RetiredRole == world.Compromised.Username);
        Assert.Contains(report.Credentials.Rotated, r => r.Secret == "session-key");
        Assert.False(report.Credentials.Rehearsed);
        Assert.Single(await world.Scenario.EnabledCredentialsAsync(world.Scenario.Store(world.Reader)));
        var steps = report.Timeline.Select(t => t.Step).Where(s => s != "credential-rotated").ToList();
        Assert.Equal(["started", "clean-backup-chosen", "notified", "evidence-captured", "isolated", "backups-held", "evidence-captured", "awaiting-approval",
            "approval-ignored", "approved", "restored", "verified", "writes-resumed", "post-mortem-written", "gdpr-notified"], steps);

        // Evidence as found holds the attacker's session; every file's checksum is in its manifest and it cannot be deleted.
        var store = world.Store;
        Assert.Equal(["detection", "contained"], report.Evidence.Select(e => e.CaptureId));
        var sessions = await BreachTests.ReadAsync(store, report.Evidence[0].Files.Single(f => f.Name.EndsWith("/sessions.json", StringComparison.Ordinal)).Name);
        Assert.Contains("attacker-session", sessions, StringComparison.Ordinal);
        foreach (var file in report.Evidence.SelectMany(e => e.Files))
        {
            var bytes = Encoding.UTF8.GetBytes(await BreachTests.ReadAsync(store, file.Name));
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.True((await store.GetAsync(file.Name, default))!.LegalHold, $"{file.Name} is not under legal hold");
            await Assert.ThrowsAsync<ObjectProtectedException>(() => store.DeleteAsync(file.Name, default));
        }
        var catalog = await world.Reader.GetRequiredService<BackupCatalog>().ListAsync(default);
        Assert.False(catalog.Single(b => b.Name == world.Backups[0].Name).LegalHold);
        Assert.True(catalog.Single(b => b.Name == world.Backups[1].Name).LegalHold);
        Assert.True(catalog.Single(b => b.Name == world.Backups[2].Name).LegalHold);
        Assert.Contains(report.Holds!.Objects, o => o.StartsWith(VerificationRecord.Prefix + world.Backups[1].Name, StringComparison.Ordinal));

        // The post-mortem skeleton in the evidence area, held, with the timeline, the outcome and the deadline.
        Assert.Equal(PostMortemWriter.NameFor(report.IncidentId), report.PostMortem);
        Assert.True((await store.GetAsync(report.PostMortem!, default))!.LegalHold);
        var markdown = await BreachTests.ReadAsync(store, report.PostMortem!);
        Assert.Contains($"# Post-mortem: security incident {report.IncidentId}", markdown, StringComparison.Ordinal);
        Assert.Contains("| Outcome | recovered: restored, verified, access given back |", markdown, StringComparison.Ordinal);
        Assert.Contains($"| GDPR notification due (72 h, Art. 33) | {BreachTests.At(report.NotifyBy)}; reminders every 00:00:02", markdown, StringComparison.Ordinal);
        Assert.Contains($"| Restored from | `{world.Backups[1].Name}`", markdown, StringComparison.Ordinal);
        Assert.Contains("| Restore approved by | bob |", markdown, StringComparison.Ordinal);
        Assert.Contains("| writes-resumed |", markdown, StringComparison.Ordinal);
        Assert.Contains("Rotated `session-key`", markdown, StringComparison.Ordinal);
        var gdprRecord = await BreachTests.ReadAsync(store, RecordGdprAcknowledgementActivity.NameFor(report.IncidentId));
        Assert.Contains("\"acknowledgedBy\": \"dana\"", gdprRecord, StringComparison.Ordinal);
        Assert.True((await store.GetAsync(RecordRunActivity.NameFor(BreachRecoveryOrchestrator.RecordName, id), default)) is not null);

        // The breach is an incident under its own id, opened at its start (that opening is the page below), its
        // stages recorded as it went; the workflow's end leaves it open for a person, its plan still running.
        var incident = await new Floyo.Recovery.Incidents.IncidentBook(store, TimeProvider.System).RequireAsync(report.IncidentId, default);
        Assert.Equal(Floyo.Recovery.Incidents.IncidentStatus.Open, incident.Status);
        Assert.Equal(BreachRecoveryOrchestrator.BreachProjectedRto, incident.ProjectedRto);
        Assert.Equal([BreachStages.Isolating, BreachStages.RotatingCredentials, BreachStages.AwaitingApproval, BreachStages.Restoring, BreachStages.Verifying,
            BreachStages.AwaitingGdprNotification, "recovered-follow-up"], incident.Changes.Select(c => c.Stage));
        Assert.Contains("patch the vulnerability", incident.Changes[^1].Message, StringComparison.Ordinal);
        Assert.Contains(Floyo.Recovery.Incidents.CommunicationPlan.Opened, incident.Sent);
        var communication = await world.Host.Client.GetInstanceAsync(Floyo.Recovery.Workflows.Orchestrations.IncidentCommunicationOrchestrator.InstanceIdFor(report.IncidentId));
        Assert.Equal(OrchestrationRuntimeStatus.Running, communication!.RuntimeStatus);

        // Notifications: the start paged and posted; approval, recovery and reminders posted; all recorded in the store.
        var page = Assert.Single(world.Hooks.To(Pager)).Json;
        Assert.Equal(report.IncidentId, page.GetProperty("dedup_key").GetString());
        Assert.Contains("breach recovery started", page.GetProperty("payload").GetProperty("summary").GetString(), StringComparison.Ordinal);
        var chat = world.Hooks.To(Chat).Select(p => p.Json.GetProperty("text").GetString()!).ToList();
        Assert.Contains(chat, t => t.Contains("restore needs approval", StringComparison.Ordinal) && t.Contains(world.Backups[1].Name, StringComparison.Ordinal));
        Assert.Contains(chat, t => t.Contains($"Incident {report.IncidentId}: recovered", StringComparison.Ordinal));
        Assert.True(Directory.EnumerateFiles(Path.Combine(world.Scenario.BackupDir, "notifications")).Count() >= 5);

        // Nothing anywhere holds a secret value: logs, store (evidence, incidents, notifications, runs), posts, output, status.
        await world.AssertNoSecretInAsync(await world.EverythingAsync(done.SerializedOutput, done.SerializedCustomStatus, waiting.SerializedCustomStatus, done.SerializedInput));
    }

    [Fact]
    public async Task Without_approval_in_time_nothing_is_restored_and_the_database_stays_isolated()
    {
        await using var world = await World.CreateAsync(("BREACH_APPROVAL_TIMEOUT", "00:00:03"));
        var id = await world.StartAsync(BreachTests.At(BreachTests.Day0.AddDays(1.5)), "breach-timeout");

        var ended = await world.WaitForStageAsync(id, BreachStages.AwaitingGdprNotification);
        var progress = JsonSerializer.Deserialize<BreachProgress>(ended.SerializedCustomStatus!)!;
        Assert.Equal(BreachOutcome.ApprovalTimedOut, progress.Outcome);

        // Nothing restored (the attacker's rows are still there, as evidence), and nobody of the application can connect.
        Assert.Equal(43, await world.NotesAsync());
        var rotated = await world.CurrentAsync();
        Assert.Equal("42501", await world.Scenario.TryLoginAsync(rotated));
        Assert.DoesNotContain(world.Scenario.Group, await GranteesAsync(world.Scenario.Database.Name));
        var page = await world.Hooks.WaitForAsync(Pager, p => p.Body.Contains("restore not approved", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(10));
        Assert.Contains("stays isolated", page[0].Body, StringComparison.Ordinal);

        await world.Host.Client.RaiseEventAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), GdprReminderOrchestrator.AcknowledgementEvent, new GdprAcknowledgement("dana"));
        var report = (await world.WaitAsync(id)).ReadOutputAs<BreachReport>()!;
        Assert.Equal(BreachOutcome.ApprovalTimedOut, report.Outcome);
        Assert.Null(report.Restored);
        Assert.False(report.WritesResumed);
        Assert.Null(report.ApprovedBy);
        Assert.Contains("nothing was restored", report.Error, StringComparison.Ordinal);
        Assert.Equal("approval-timed-out", report.Timeline.Single(t => t.Step == "approval-timed-out").Step);
        var markdown = await BreachTests.ReadAsync(world.Store, report.PostMortem!);
        Assert.Contains("restore not approved in time: nothing restored, the database is still isolated", markdown, StringComparison.Ordinal);
        var record = await BreachTests.ReadAsync(world.Store, RecordRunActivity.NameFor(BreachRecoveryOrchestrator.RecordName, id));
        Assert.Contains("\"outcome\": \"failed\"", record, StringComparison.Ordinal);

        await world.AssertNoSecretInAsync(await world.EverythingAsync(JsonSerializer.Serialize(report)));

        // The statement in the report reopens the database as it was.
        await world.Scenario.Database.ExecuteAsync(report.ReleaseSql!);
        Assert.Equal(world.GranteesBefore, await GranteesAsync(world.Scenario.Database.Name));
        Assert.Null(await world.Scenario.TryLoginAsync(rotated));
    }

    [Fact]
    public async Task A_host_stopped_mid_workflow_is_replaced_and_the_workflow_resumes_where_it_stopped()
    {
        // Reminders far apart, so that no step is in flight when the worker stops (see StopWorkerAsync).
        await using var world = await World.CreateAsync(("BREACH_REMINDER_INTERVAL", "01:00:00"));
        var id = await world.StartAsync(BreachTests.At(BreachTests.Day0.AddDays(1.5)), "breach-crash");
        await world.WaitForStageAsync(id, BreachStages.AwaitingApproval);
        await world.Hooks.WaitForAsync(Chat, p => p.Body.Contains("restore needs approval", StringComparison.Ordinal), 1, TimeSpan.FromMinutes(1));
        await Task.Delay(1000);
        var rotatedBefore = await world.CurrentAsync();

        // The worker goes away with its engine; the task hub (the sidecar) keeps the history. Then a new worker, a new engine.
        await StopWorkerAsync(world.Host);
        var replacementLogs = new CapturedLogs();
        using var replacement = await StartWorkerAsync(world.Scenario, world.Host, replacementLogs, ("BREACH_REMINDER_INTERVAL", "01:00:00"), ("NOTIFY_SLACK_WEBHOOK_URL", world.Hooks.Url(Chat)));
        await world.Host.Client.RaiseEventAsync(id, BreachRecoveryOrchestrator.ApprovalEvent, new Approval("bob"));
        await world.WaitForStageAsync(id, BreachStages.AwaitingGdprNotification);
        await world.Host.Client.RaiseEventAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), GdprReminderOrchestrator.AcknowledgementEvent, new GdprAcknowledgement("dana"));
        var done = await world.WaitAsync(id);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);
        var report = done.ReadOutputAs<BreachReport>()!;

        // Finished on the new worker as if nothing had happened, and nothing done before the crash was done twice.
        Assert.Equal(BreachOutcome.Recovered, report.Outcome);
        Assert.Equal("bob", report.ApprovedBy);
        Assert.Equal(2, await world.NotesAsync());
        Assert.Equal(rotatedBefore.Username, (await world.CurrentAsync()).Username);
        Assert.Null(await world.Scenario.TryLoginAsync(rotatedBefore));
        Assert.Equal(["detection", "contained"], report.Evidence.Select(e => e.CaptureId));
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(world.Scenario.BackupDir, "evidence", report.IncidentId)).Length);
        Assert.Single(report.Credentials!.Rotated, r => r.Kind == RotationKind.PostgresLogin);
        Assert.Single(report.Timeline, t => t.Step == "isolated");
        Assert.Single(Directory.GetFiles(Path.Combine(world.Scenario.BackupDir, "notifications"), "*-approval-needed.json"));
        Assert.Single(Directory.GetFiles(Path.Combine(world.Scenario.BackupDir, "incidents", report.IncidentId), "isolation.json"));
        Assert.Equal(world.GranteesBefore, await GranteesAsync(world.Scenario.Database.Name));
        Assert.Contains(replacementLogs.Lines, l => l.Contains("'RestoreCleanBackupActivity' activity of orchestration ID 'breach-crash' completed", StringComparison.Ordinal));
    }

    /// <summary>
    /// Stops the test host's worker only (what a crashed or recycled Functions instance leaves): its sidecar, the
    /// task hub, stays up. The in-memory sidecar of InProcessTestHost 0.2.3-preview.1 drops an activity that a
    /// stopping worker abandons (Azure Storage would deliver it again), so the crash is staged while the workflow
    /// waits durably; a crash inside a step is covered by BreachStepTests running every step twice.
    /// </summary>
    private static async Task StopWorkerAsync(DurableTaskTestHost host)
    {
        var worker = (Microsoft.Extensions.Hosting.IHost)typeof(DurableTaskTestHost).GetField("workerHost", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(host)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await worker.StopAsync(timeout.Token);
    }

    /// <summary>A new worker process in all but name: a fresh host and engine, connected to the same task hub.</summary>
    private static async Task<Microsoft.Extensions.Hosting.IHost> StartWorkerAsync(RotationScenario scenario, DurableTaskTestHost hub, CapturedLogs logs, params (string Key, string? Value)[] extra)
    {
        var channel = (Grpc.Net.Client.GrpcChannel)typeof(DurableTaskTestHost).GetField("grpcChannel", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(hub)!;
        var settings = scenario.Settings(600);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace).AddProvider(logs);
        builder.Services.AddFloyoRecovery();
        builder.Services.AddDurableTaskWorker(b =>
        {
            b.AddTasks(r => r.AddFloyoWorkflows().AddFloyoIncidentStarter());
            b.UseGrpc(channel);
        });
        builder.Services.AddDurableTaskClient(b => b.UseGrpc(channel));
        var worker = builder.Build();
        await worker.StartAsync();
        return worker;
    }

    [Theory]
    [InlineData("future")]
    [InlineData("before-every-backup")]
    [InlineData("unparseable")]
    public async Task A_rejected_since_fails_the_workflow_at_once_and_changes_nothing(string kind)
    {
        await using var world = await World.CreateAsync();
        var aclBefore = await BreachTests.AccessAsync(world.Scenario);
        var objectsBefore = await BreachTests.CountObjectsAsync(world.Reader);
        var since = kind switch
        {
            "future" => BreachTests.At(DateTimeOffset.UtcNow.AddHours(3)),
            "before-every-backup" => BreachTests.At(BreachTests.Day0.AddDays(-1)),
            _ => "2026-02-30 25:00",
        };

        var id = await world.StartAsync(since, $"breach-refused-{kind}");
        var state = await world.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        var message = state.FailureDetails!.ErrorMessage;
        Assert.Contains(kind switch { "future" => "is in the future", "before-every-backup" => "is before every backup", _ => "is not a date and time" }, message, StringComparison.Ordinal);
        Assert.Contains("nothing was", message, StringComparison.Ordinal);
        Assert.Equal(aclBefore, await BreachTests.AccessAsync(world.Scenario));
        Assert.Equal(world.Compromised.Username, (await world.CurrentAsync()).Username);
        Assert.Equal(objectsBefore, await BreachTests.CountObjectsAsync(world.Reader));
        Assert.Empty(world.Hooks.Posts);
        // The attacker's session was not touched either: a refused request is not an incident.
        await using var command = new NpgsqlCommand("SELECT count(*) FROM notes", world.AttackerSession);
        Assert.Equal(43L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_restored_backup_is_held_even_when_older_than_the_last_before_since_and_the_compromised_database_is_kept_for_the_admin_only()
    {
        await using var world = await World.CreateAsync();
        // After the day-2 backup, which was never verified: the restore goes back to day 1.
        var id = await world.StartAsync(BreachTests.At(BreachTests.Day0.AddDays(2.5)), "breach-evidence");
        await world.WaitForStageAsync(id, BreachStages.AwaitingApproval);
        await world.Host.Client.RaiseEventAsync(id, BreachRecoveryOrchestrator.ApprovalEvent, new Approval("bob"));
        await world.WaitForStageAsync(id, BreachStages.AwaitingGdprNotification);
        await world.Host.Client.RaiseEventAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), GdprReminderOrchestrator.AcknowledgementEvent, new GdprAcknowledgement("dana"));
        var done = await world.WaitAsync(id);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);
        var report = done.ReadOutputAs<BreachReport>()!;
        Assert.Equal(BreachOutcome.Recovered, report.Outcome);
        Assert.Equal(world.Backups[1].Name, report.Restored!.Backup);
        Assert.Equal(2, await world.NotesAsync());

        // Held: the backup restored from and everything after it; not the one before.
        Assert.Equal([world.Backups[1].Name, world.Backups[2].Name], report.Holds!.Backups);
        var catalog = await world.Reader.GetRequiredService<BackupCatalog>().ListAsync(default);
        Assert.False(catalog.Single(b => b.Name == world.Backups[0].Name).LegalHold);
        Assert.True(catalog.Single(b => b.Name == world.Backups[1].Name).LegalHold);
        Assert.True(catalog.Single(b => b.Name == world.Backups[2].Name).LegalHold);

        // The compromised database, with the attacker's rows, is kept under a recognisable name, and named in the report and the post-mortem.
        var db = world.Scenario.Database.Name;
        await using var admin = await Postgres.PgConnector.OpenAsync(TestServers.Primary, default);
        string kept;
        await using (var find = new NpgsqlCommand($"SELECT datname FROM pg_database WHERE datname LIKE '{db}\\_breach\\_%'", admin))
        {
            kept = Assert.IsType<string>(await find.ExecuteScalarAsync(), exactMatch: false);
        }
        await using (var evidence = await Postgres.PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Primary, kept), default))
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM notes WHERE body LIKE 'planted %'", evidence))
        {
            Assert.Equal(40L, await count.ExecuteScalarAsync());
        }
        Assert.Equal([TestServers.Primary.Username!], await GranteesAsync(kept));
        var rotated = await world.CurrentAsync();
        var application = new NpgsqlConnectionStringBuilder(world.Scenario.AppConnection(rotated).ConnectionString) { Database = kept };
        var refused = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(application.ConnectionString);
            await connection.OpenAsync();
        });
        Assert.Equal("42501", refused.SqlState);
        Assert.Contains($"'{kept}'", report.Timeline.Single(t => t.Step == "restored").Detail, StringComparison.Ordinal);
        Assert.Contains($"`{kept}`", await BreachTests.ReadAsync(world.Store, report.PostMortem!), StringComparison.Ordinal);
    }

    internal static async Task<List<string>> GranteesAsync(string database, NpgsqlConnectionStringBuilder? server = null)
    {
        await using var admin = await Postgres.PgConnector.OpenAsync(server ?? TestServers.Primary, default);
        return [.. await Floyo.Recovery.Access.ConnectGate.ReadHoldersAsync(admin, database, default)];
    }
}
