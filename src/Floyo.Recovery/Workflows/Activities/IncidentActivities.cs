using Floyo.Recovery.Configuration;
using Floyo.Recovery.Incidents;
using Microsoft.DurableTask;
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
