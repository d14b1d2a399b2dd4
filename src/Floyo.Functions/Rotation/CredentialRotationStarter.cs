using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Rotation;

/// <param name="Started">False when a rotation was already under way: that one covers this request.</param>
/// <param name="Status">The running rotation's status when not started; <c>Pending</c> for a new one.</param>
public sealed record RotationStart(string InstanceId, bool Started, string Status, string? RotationId = null);

/// <summary>
/// Starts the credential rotation for every trigger (the monthly timer, Key Vault's near-expiry webhook)
/// under one fixed instance id, so two never run at once. A rotation still pending, running or suspended is
/// left alone: it rotates everything floyo-dr manages, so it covers the new request. A finished one (completed,
/// failed or terminated) is replaced by a new run with the same id; Durable keeps one history per id, so the
/// previous run's history gives way (its outcome stays in the log and in the secret's version tags). The start
/// asks the backend to refuse the id while an instance is active (dedupe statuses), which also settles a race
/// between two triggers: the loser sees the winner running and reports that.
/// </summary>
public sealed partial class CredentialRotationStarter(TimeProvider clock, ILogger<CredentialRotationStarter> logger)
{
    public const string InstanceId = "credential-rotation";

    private static readonly OrchestrationRuntimeStatus[] Active =
        [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended];

    public async Task<RotationStart> StartAsync(DurableTaskClient client, string trigger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        var existing = await client.GetInstanceAsync(InstanceId, getInputsAndOutputs: false, ct);
        if (existing is not null && Active.Contains(existing.RuntimeStatus))
        {
            LogAlreadyRunning(logger, trigger, InstanceId, existing.RuntimeStatus.ToString(), existing.CreatedAt);
            return new RotationStart(InstanceId, false, existing.RuntimeStatus.ToString());
        }
        var rotationId = RotationRunner.NewRotationId(clock);
        var options = new StartOrchestrationOptions(InstanceId).WithDedupeStatuses(Active);
        try
        {
            // Without the dedupe statuses some backends would terminate an active instance to reuse its id: never that.
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(RotationOrchestrator), new RotationWorkflowInput(RotationId: rotationId), options, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (await client.GetInstanceAsync(InstanceId, getInputsAndOutputs: false, ct) is { } winner && Active.Contains(winner.RuntimeStatus))
            {
                LogAlreadyRunning(logger, trigger, InstanceId, winner.RuntimeStatus.ToString(), winner.CreatedAt);
                return new RotationStart(InstanceId, false, winner.RuntimeStatus.ToString());
            }
            throw;
        }
        LogStarted(logger, trigger, InstanceId, rotationId, existing?.RuntimeStatus.ToString() ?? "none");
        return new RotationStart(InstanceId, true, OrchestrationRuntimeStatus.Pending.ToString(), rotationId);
    }

    [LoggerMessage(EventId = 5540, Level = LogLevel.Warning, Message = "{Trigger} started credential rotation {RotationId} as {InstanceId} (previous run: {Previous})")]
    private static partial void LogStarted(ILogger logger, string trigger, string instanceId, string rotationId, string previous);

    [LoggerMessage(EventId = 5541, Level = LogLevel.Information, Message = "{Trigger}: credential rotation {InstanceId} is already {Status} (since {Since:O}); it covers this request")]
    private static partial void LogAlreadyRunning(ILogger logger, string trigger, string instanceId, string status, DateTimeOffset since);
}
