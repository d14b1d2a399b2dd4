using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Activities;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Floyo.Functions.Incidents;

/// <summary>
/// The app's <see cref="StartIncidentCommunicationActivity"/>: a workflow that opened an incident (a failed
/// restore, a breach, a failed drill) has its communication workflow started here as an instance of its own, so it
/// keeps running after that workflow ends. An activity function, because in the isolated worker a Durable client
/// comes only as a binding; floyo-dr and the test hosts run the class of the same name, their client from DI.
/// </summary>
public sealed class IncidentCommunicationFunctions
{
    [Function(StartIncidentCommunicationActivity.Name)]
    public static Task<bool> StartAsync([ActivityTrigger] IncidentCommunicationStart start, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        IncidentCommunicationStarter.EnsureRunningAsync(client, start, ct);
}
