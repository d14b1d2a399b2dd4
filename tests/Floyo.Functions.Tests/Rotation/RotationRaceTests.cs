using Floyo.Functions.Rotation;
using Floyo.Functions.Tests.Support;
using Floyo.Functions.Timers;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RotationScenario = Floyo.Recovery.Tests.Rotation.RotationScenario;

namespace Floyo.Functions.Tests.Rotation;

/// <summary>
/// The scheduled rotation (fixed instance id) and a breach's rotation (its own sub-orchestration id, no grace)
/// running at once on the Functions path: both plan from the same state, then race through publish.
/// </summary>
public sealed class RotationRaceTests
{
    [Fact]
    public async Task A_breach_rotation_and_the_scheduled_one_never_both_publish_and_the_store_always_matches_the_database()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using (var engine = scenario.Engine(graceSeconds: 0))
        {
            await scenario.InitAsync(engine);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
        }
        await using var reader = scenario.Engine(graceSeconds: 0);
        var store = scenario.Store(reader);
        var (first, original) = Assert.Single(await scenario.EnabledCredentialsAsync(store));

        var meeting = new Rendezvous(async () =>
        {
            var current = await store.GetCurrentAsync(RotationScenario.Secret, default);
            Assert.True(DatabaseCredential.TryParse(current!.Value, out var credential));
            return await scenario.TryLoginAsync(credential!);
        });
        await using var host = await WorkflowHost.StartAsync(scenario.Settings(graceSeconds: 1), services => services.AddSingleton<IRotationCheckpoint>(meeting));
        var starter = new CredentialRotationStarter(TimeProvider.System, NullLogger<CredentialRotationStarter>.Instance);

        // The timer and a Key Vault event at the same moment share one instance: only one of them starts it.
        var triggers = await Task.WhenAll(
            new RotationTimer(starter, host.Configuration, NullLogger<RotationTimer>.Instance).RunAsync(new TimerInfo(), host.Client, default),
            starter.StartAsync(host.Client, "Key Vault event", default));
        Assert.Single(triggers, t => t.Started);
        // A breach rotates under its own sub-orchestration id, with no grace, at the same time.
        const string breach = "breach-race-rotation-1";
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RotationOrchestrator),
            new RotationWorkflowInput(TaggedSecrets: false, GraceSeconds: 0, RotationId: "rot-incident-race-1"), new StartOrchestrationOptions(breach));

        var outcomes = new[] { await host.WaitAsync(CredentialRotationStarter.InstanceId), await host.WaitAsync(breach) };

        Assert.True(meeting.Plans >= 2, "both rotations planned from the same state");
        Assert.Empty(meeting.Broken);
        // One published and finished; the other was refused before it changed anything, and says why.
        var completed = Assert.Single(outcomes, o => o.RuntimeStatus == OrchestrationRuntimeStatus.Completed);
        var refused = Assert.Single(outcomes, o => o.RuntimeStatus == OrchestrationRuntimeStatus.Failed);
        Assert.Contains($"secret '{RotationScenario.Secret}' changed since rotation", refused.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        var rotated = Assert.Single(completed.ReadOutputAs<RotationWorkflowResult>()!.Rotated);
        Assert.Equal(scenario.Green, rotated.Role);

        // The store and the database agree: the one enabled version logs in, the old one does not.
        var (version, current) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        Assert.Equal(rotated.NewVersion, version.Version);
        Assert.Null(await scenario.TryLoginAsync(current));
        Assert.Equal("28P01", await scenario.TryLoginAsync(original));
        Assert.Equal(2, (await store.ListVersionsAsync(RotationScenario.Secret, default)).Count);
        Assert.NotEqual(first.Version, version.Version);
    }

    /// <summary>
    /// Makes the race happen every time: each plan waits (a few seconds at most) until another rotation has
    /// planned too; a publisher that has proven its password waits for another to set one. At every publish it
    /// checks that the credential the store now serves logs in.
    /// </summary>
    private sealed class Rendezvous(Func<Task<string?>> currentLogsIn) : IRotationCheckpoint
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(4);
        private readonly TaskCompletionSource _secondPlan = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _passwordSet = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _plans;
        private int _passwords;

        public int Plans => _plans;

        public List<string> Broken { get; } = [];

        public async ValueTask ReachedAsync(RotationPlan plan, string step, CancellationToken ct)
        {
            if (plan.Kind != RotationKind.PostgresLogin)
            {
                return;
            }
            switch (step)
            {
                case RotationSteps.Plan:
                    if (Interlocked.Increment(ref _plans) == 2)
                    {
                        _secondPlan.TrySetResult();
                        // The first planner goes first: two ALTER ROLEs at the same instant only collide inside PostgreSQL.
                        await Task.Delay(500, ct);
                    }
                    await WaitAsync(_secondPlan.Task);
                    break;
                case RotationSteps.PasswordSet:
                    if (Interlocked.Increment(ref _passwords) == 2)
                    {
                        _passwordSet.TrySetResult();
                    }
                    break;
                case RotationSteps.LoginProven:
                    await WaitAsync(_passwordSet.Task);
                    break;
                case RotationSteps.Published:
                    if (await currentLogsIn() is { } refused)
                    {
                        lock (Broken)
                        {
                            Broken.Add($"{plan.RotationId} published a credential that does not log in ({refused})");
                        }
                    }
                    break;
            }
        }

        private static async Task WaitAsync(Task task)
        {
            try
            {
                await task.WaitAsync(Patience);
            }
            catch (TimeoutException)
            {
                // The other rotation cannot get here (it waits for this one): go on.
            }
        }
    }
}
