using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

public sealed class EndOldSessionsActivity(DatabaseCredentialRotator database, WorkflowRuntime runtime, ILogger<EndOldSessionsActivity> logger)
    : RecoveryActivity<RotationPlan, RotationStepResult>(runtime, logger)
{
    protected override async Task<RotationStepResult> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct)
    {
        var (plan, ended) = await database.EndOldSessionsAsync(input, ct);
        return new RotationStepResult(plan, [], ended);
    }
}
