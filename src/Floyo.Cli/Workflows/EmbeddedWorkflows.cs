using Floyo.Cli.Workflows.Engine;
using Floyo.Recovery;
using Floyo.Recovery.Workflows;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Workflows;

/// <summary>
/// floyo-dr runs the Functions app's orchestrations on an in-process Durable engine (an in-memory task
/// hub behind a gRPC sidecar on a private unix socket), so a command line exercises exactly the code that runs in Azure.
/// The hub lives as long as the command: nothing is persisted between runs.
/// </summary>
internal static class EmbeddedWorkflows
{
    /// <summary>How often a command looks at its workflow: the hub is in this process, so asking is cheap and every wait is felt.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public static void Add(IServiceCollection services)
    {
        // The engine is behind one seam (Engine/InProcessEngine); from here on only the standard worker and client.
        var channel = InProcessEngine.Add(services);
        // Registered after AddFloyoRecovery's default, so this one is resolved.
        services.AddSingleton(sp => new WorkflowRuntime(sp.GetService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()) { EngineEndsWithCommand = true });
        services.AddDurableTaskWorker(b =>
        {
            b.UseGrpc(channel);
            b.AddTasks(r => r.AddFloyoWorkflows().AddFloyoIncidentStarter());
        });
        services.AddDurableTaskClient(b =>
        {
            b.UseGrpc(channel);
            b.RegisterDirectly();
        });
    }

    /// <summary>An instance id that says where and when it started; unique within the process's hub.</summary>
    public static string NewInstanceId(string verb) => InstanceIds.New($"cli-{verb}-", DateTimeOffset.UtcNow);

    public static async Task<string> StartAsync<TInput>(IServiceProvider services, string orchestrator, TInput input, string instanceId, CancellationToken ct)
        where TInput : notnull
    {
        var client = services.GetRequiredService<DurableTaskClient>();
        return await client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input, new StartOrchestrationOptions(instanceId), ct);
    }

    /// <summary>Waits for the orchestration's end; a failed orchestration becomes its one-line message.</summary>
    public static async Task<TOutput> WaitAsync<TOutput>(IServiceProvider services, string instanceId, CancellationToken ct)
    {
        var client = services.GetRequiredService<DurableTaskClient>();
        var state = await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, ct);
        return Output<TOutput>(state, instanceId);
    }

    /// <summary>Waits for the orchestration's end, telling <paramref name="onStatus"/> each new custom status on the way.</summary>
    public static async Task<TOutput> WaitAsync<TOutput>(IServiceProvider services, string instanceId, Action<string?> onStatus, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onStatus);
        var client = services.GetRequiredService<DurableTaskClient>();
        string? last = null;
        while (true)
        {
            var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, ct)
                ?? throw new NotFoundException($"workflow {instanceId} does not exist");
            if (state.IsCompleted)
            {
                return Output<TOutput>(state, instanceId);
            }
            if (state.SerializedCustomStatus != last)
            {
                last = state.SerializedCustomStatus;
                onStatus(last);
            }
            await Task.Delay(PollInterval, ct);
        }
    }

    public static TOutput Output<TOutput>(OrchestrationMetadata state, string instanceId) => state.RuntimeStatus switch
    {
        OrchestrationRuntimeStatus.Completed => state.ReadOutputAs<TOutput>() ?? throw new RecoveryException($"workflow {instanceId} finished without a result"),
        OrchestrationRuntimeStatus.Failed => throw RecoveryException.Of(ErrorKinds.Of(state.FailureDetails), state.FailureDetails?.ErrorMessage ?? $"workflow {instanceId} failed"),
        _ => throw new RecoveryException($"workflow {instanceId} ended as {state.RuntimeStatus}"),
    };

    public static async Task<TOutput> RunAsync<TInput, TOutput>(IServiceProvider services, string orchestrator, TInput input, string instanceId, CancellationToken ct)
        where TInput : notnull
    {
        await StartAsync(services, orchestrator, input, instanceId, ct);
        return await WaitAsync<TOutput>(services, instanceId, ct);
    }
}
