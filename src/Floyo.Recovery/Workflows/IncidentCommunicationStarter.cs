using Floyo.Recovery.Incidents;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Floyo.Recovery.Workflows;

/// <summary>What a workflow asks of the incident's communication workflow: run, and hear of this change if there is one.</summary>
public sealed record IncidentCommunicationStart(string IncidentId, IncidentChange? Change = null);

/// <summary>Starts an incident's communication workflow unless it runs, else raises the change into it. Used by every host's starter.</summary>
public static class IncidentCommunicationStarter
{
    /// <summary>True when it was started now (a start catches up on every change in the store, so none is raised then).</summary>
    public static async Task<bool> EnsureRunningAsync(DurableTaskClient client, IncidentCommunicationStart start, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(start);
        var instance = IncidentCommunicationOrchestrator.InstanceIdFor(start.IncidentId);
        if (await client.GetInstanceAsync(instance, getInputsAndOutputs: false, ct) is { IsRunning: true } or { RuntimeStatus: OrchestrationRuntimeStatus.Pending })
        {
            if (start.Change is { } change)
            {
                await client.RaiseEventAsync(instance, IncidentCommunicationOrchestrator.ChangedEvent, change, ct);
            }
            return false;
        }
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(IncidentCommunicationOrchestrator), new IncidentCommunicationInput(start.IncidentId), new StartOrchestrationOptions(instance), ct);
            return true;
        }
        catch (Exception e) when (e.GetType().Name.Contains("AlreadyExists", StringComparison.Ordinal) || e.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase))
        {
            // Started by someone else (a retry, an HTTP update) between the look and the start: it catches up by itself.
            return false;
        }
    }
}
