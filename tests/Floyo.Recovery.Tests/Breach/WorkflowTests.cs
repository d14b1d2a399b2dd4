using System.Net;
using System.Net.Sockets;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Tests.Breach;

/// <summary>The rotation orchestration on the in-process Durable host, over the real engine and server.</summary>
public sealed class WorkflowTests
{
    /// <summary>Every Floyo workflow on the in-process Durable host, configured like the app from the scenario's settings (plus <paramref name="extra"/>).</summary>
    internal static async Task<DurableTaskTestHost> StartHostAsync(RotationScenario scenario, double graceSeconds, params (string Key, string? Value)[] extra)
    {
        var settings = scenario.Settings(graceSeconds);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return await DurableTaskTestHost.StartAsync(r => r.AddFloyoWorkflows().AddFloyoIncidentStarter(), new DurableTaskTestHostOptions
        {
            Port = FreePort(),
            ConfigureServices = services =>
            {
                services.AddSingleton<IConfiguration>(configuration);
                services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(scenario.Logs));
                services.AddFloyoRecovery();
            },
        });
    }

    private static async Task<OrchestrationMetadata> RunAsync(DurableTaskTestHost host, string name, object input)
    {
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(name, input);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        return await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
    }

    [Fact]
    public async Task The_rotation_orchestration_publishes_waits_on_a_durable_timer_and_retires()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        await using (var engine = scenario.Engine(graceSeconds: 0))
        {
            await scenario.InitAsync(engine);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
            await scenario.Store(engine).SetAsync("session-key", RandomSecret.Create(), new Dictionary<string, string> { [SecretTags.Rotation] = SecretTags.Random }, null, default);
        }
        await using var reader = scenario.Engine(graceSeconds: 0);
        var store = scenario.Store(reader);
        var (_, original) = Assert.Single(await scenario.EnabledCredentialsAsync(store));

        await using var host = await StartHostAsync(scenario, graceSeconds: 2);
        var done = await RunAsync(host, nameof(RotationOrchestrator), new RotationWorkflowInput());

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);
        var result = done.ReadOutputAs<RotationWorkflowResult>()!;
        var database = Assert.Single(result.Rotated, r => r.Kind == RotationKind.PostgresLogin);
        Assert.Equal(scenario.Green, database.Role);
        Assert.Equal(scenario.Blue, database.RetiredRole);
        Assert.True(database.CompletedAt - database.PublishedAt >= TimeSpan.FromSeconds(2), "the previous credential kept its grace period");
        Assert.Single(result.Rotated, r => r.Secret == "session-key");
        var (version, current) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        Assert.Equal(SecretTags.StateComplete, version.Tag(SecretTags.RotationState));
        Assert.Null(await scenario.TryLoginAsync(current));
        Assert.Equal("28P01", await scenario.TryLoginAsync(original));
        // The orchestration's history (inputs and outputs) holds no secret value.
        Assert.DoesNotContain(original.Password, done.SerializedOutput ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain(current.Password, done.SerializedOutput ?? "", StringComparison.Ordinal);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
