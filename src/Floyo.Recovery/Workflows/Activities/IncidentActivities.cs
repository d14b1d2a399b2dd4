using Floyo.Recovery.Configuration;
using Floyo.Recovery.Incidents;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>The communication schedule from settings, read once per run so the orchestration replays the same one.</summary>
public sealed class ReadCommunicationScheduleActivity(IOptions<IncidentOptions> options, WorkflowRuntime runtime, ILogger<ReadCommunicationScheduleActivity> logger)
    : RecoveryActivity<bool, CommunicationSchedule>(runtime, logger)
{
    protected override Task<CommunicationSchedule> ExecuteAsync(bool input, TaskActivityContext context, CancellationToken ct) =>
        Task.FromResult(CommunicationSchedule.From(options.Value));
}

/// <summary>The incident's live state (NotFound when there is none).</summary>
public sealed class ReadIncidentActivity(IncidentBook book, WorkflowRuntime runtime, ILogger<ReadIncidentActivity> logger)
    : RecoveryActivity<string, IncidentRecord>(runtime, logger)
{
    protected override Task<IncidentRecord> ExecuteAsync(string input, TaskActivityContext context, CancellationToken ct) => book.RequireAsync(input, ct);
}

/// <summary>One step of the plan (IncidentCommunicator): idempotent, so a retry sends nothing twice.</summary>
public sealed class CommunicateIncidentActivity(IncidentCommunicator communicator, WorkflowRuntime runtime, ILogger<CommunicateIncidentActivity> logger)
    : RecoveryActivity<CommunicationStepInput, IncidentEntry>(runtime, logger)
{
    protected override Task<IncidentEntry> ExecuteAsync(CommunicationStepInput input, TaskActivityContext context, CancellationToken ct) =>
        communicator.RunAsync(input.IncidentId, input.Step, input.At, ct);
}

/// <summary>
/// Opens the incident of a workflow's failure (or records a repeat on the open one of the same cause): a failed
/// restore, a breach, a failed drill where drills are production's (INCIDENT_ON_DRILL_FAILURE, else the host's
/// default). Idempotent by the trigger's occurrence, so the retry policy may run it again.
/// </summary>
public sealed class RaiseIncidentActivity(IncidentBook book, IOptions<IncidentOptions> options, WorkflowRuntime runtime, ILogger<RaiseIncidentActivity> logger)
    : RecoveryActivity<IncidentTrigger, RaisedIncident>(runtime, logger)
{
    protected override async Task<RaisedIncident> ExecuteAsync(IncidentTrigger input, TaskActivityContext context, CancellationToken ct)
    {
        // The host's default: the Functions app's drills are production's, floyo-dr's are someone's rehearsal.
        if (input.Cause == IncidentCause.DrillFailed && !options.Value.DrillFailureOpens(hostDefault: !Runtime.EngineEndsWithCommand))
        {
            var why = Runtime.EngineEndsWithCommand && string.IsNullOrWhiteSpace(options.Value.DrillFailureOpensIncident)
                ? "a drill run by hand with floyo-dr (INCIDENT_ON_DRILL_FAILURE unset)"
                : "INCIDENT_ON_DRILL_FAILURE=false";
            logger.DrillIncidentSkipped(input.Occurrence, why);
            return new RaisedIncident(null, false, null, why);
        }
        var trigger = input with { Title = IncidentText.Scrub(input.Title), Detail = IncidentText.Scrub(input.Detail) };
        var (record, opened, change) = await book.RaiseAsync(trigger, ct);
        if (opened)
        {
            logger.IncidentOpenedByWorkflow(record.Id, input.Cause, input.Occurrence);
        }
        else if (change is not null)
        {
            logger.IncidentRecurred(record.Id, input.Cause, input.Occurrence);
        }
        return new RaisedIncident(record.Id, opened, change);
    }
}

/// <summary>A workflow's stage written to its incident (once per occurrence); null when it was written already or the incident is resolved.</summary>
public sealed class RecordIncidentStageActivity(IncidentBook book, WorkflowRuntime runtime, ILogger<RecordIncidentStageActivity> logger)
    : RecoveryActivity<IncidentStageInput, IncidentChange?>(runtime, logger)
{
    protected override Task<IncidentChange?> ExecuteAsync(IncidentStageInput input, TaskActivityContext context, CancellationToken ct) =>
        book.RecordAsync(input.IncidentId, input.By, input.Stage, input.Message is null ? null : IncidentText.Scrub(input.Message), input.Occurrence, ct);
}

/// <summary>
/// Starts an incident's communication workflow as an instance of its own unless it runs already (then raises the
/// change into it), through a Durable client. Registered by the hosts whose services hold a
/// <see cref="DurableTaskClient"/> (floyo-dr's embedded engine, the in-process test hosts:
/// <see cref="DurableTaskRegistryExtensions.AddFloyoIncidentStarter"/>); the Functions app, whose client comes only
/// as a binding, has a function of the same name with a [DurableClient] parameter doing the same.
/// </summary>
public sealed class StartIncidentCommunicationActivity(DurableTaskClient client, WorkflowRuntime runtime, ILogger<StartIncidentCommunicationActivity> logger)
    : RecoveryActivity<IncidentCommunicationStart, bool>(runtime, logger)
{
    public const string Name = "StartIncidentCommunicationActivity";

    protected override Task<bool> ExecuteAsync(IncidentCommunicationStart input, TaskActivityContext context, CancellationToken ct) =>
        IncidentCommunicationStarter.EnsureRunningAsync(client, input, ct);
}
