using Floyo.Recovery.Incidents;
using Floyo.Recovery.Workflows.Activities;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// The plan's communication rules for one incident, as a Durable orchestration: tell the team at once, the
/// stakeholders within the first hour and then hourly until resolved (durable timers), the status page and the
/// customers once the projected or actual RTO passes the customer threshold, draft the public report past the
/// public-report threshold, and on resolution close the page, tell everyone and write the post-mortem with the
/// whole timeline. Content comes from the incident's live state in the store, read at every step; a change (an
/// update or the resolution, written to the store first) arrives as <see cref="ChangedEvent"/> and is acted on
/// at once. Because every step is marked in the store, a run that starts late (floyo-dr's short-lived engine)
/// catches up: it sends what is due now, once.
/// </summary>
public sealed class IncidentCommunicationOrchestrator : TaskOrchestrator<IncidentCommunicationInput, IncidentCommunicationResult>
{
    public const string ChangedEvent = "incident-changed";

    public const string Waiting = "waiting";

    private static readonly TimeSpan MinimumWait = TimeSpan.FromSeconds(1);

    public static string InstanceIdFor(string incidentId) => $"comms-{incidentId}";

    public override async Task<IncidentCommunicationResult> RunAsync(TaskOrchestrationContext context, IncidentCommunicationInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<IncidentCommunicationOrchestrator>();
        logger.WorkflowStarted(nameof(IncidentCommunicationOrchestrator), context.InstanceId, input.IncidentId);
        var retry = TaskOptions.FromRetryPolicy(WorkflowTasks.TransientRetry);
        var schedule = await context.CallActivityAsync<CommunicationSchedule>(nameof(ReadCommunicationScheduleActivity), true, retry);
        // One pending wait for a change at a time: a waiter left behind by a timer would swallow the next event.
        Task<IncidentChange>? changed = null;
        while (true)
        {
            var incident = await context.CallActivityAsync<IncidentRecord>(nameof(ReadIncidentActivity), input.IncidentId, retry);
            var now = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
            var due = CommunicationPlan.Due(incident, now, schedule);
            if (due.Count > 0)
            {
                foreach (var step in due)
                {
                    context.SetCustomStatus(new IncidentCommunicationStatus("communicating", incident.Id, incident.Stage, incident.Status, incident.Sent.Count, now, step));
                    await context.CallActivityAsync<IncidentEntry>(nameof(CommunicateIncidentActivity), new CommunicationStepInput(incident.Id, step, now), retry);
                }
                // Sending took time: look again with a fresh clock before waiting.
                continue;
            }
            if (incident.Status == IncidentStatus.Resolved && incident.WasSent(CommunicationPlan.PostMortem))
            {
                context.SetCustomStatus(new IncidentCommunicationStatus("done", incident.Id, incident.Stage, incident.Status, incident.Sent.Count));
                logger.WorkflowFinished(nameof(IncidentCommunicationOrchestrator), context.InstanceId, $"resolved; post-mortem {incident.PostMortem}");
                return new IncidentCommunicationResult(incident.Id, incident.OpenedAt, incident.ResolvedAt!.Value, incident.Sent, incident.PostMortem, incident.PublicReport);
            }

            var next = CommunicationPlan.NextDue(incident, now, schedule);
            // Never a timer due at once: the in-process engine can lose one that fires while this step is still being committed.
            if (next is { } soon && soon < now + MinimumWait)
            {
                next = now + MinimumWait;
            }
            context.SetCustomStatus(new IncidentCommunicationStatus(Waiting, incident.Id, incident.Stage, incident.Status, incident.Sent.Count, next, next is null ? "a change" : "the next step"));
            changed ??= context.WaitForExternalEvent<IncidentChange>(ChangedEvent);
            if (next is not { } at)
            {
                await changed;
                changed = null;
                continue;
            }
            using var cancel = new CancellationTokenSource();
            var timer = context.CreateTimer(at.UtcDateTime, cancel.Token);
            if (await Task.WhenAny(changed, timer) == changed)
            {
                // Synchronously: CancelAsync would resume this orchestrator off its own thread, which the engine never sees finish.
#pragma warning disable CA1849
                cancel.Cancel();
#pragma warning restore CA1849
                changed = null;
            }
        }
    }
}
