using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

public sealed class RetireOldRoleActivity(DatabaseCredentialRotator database, WorkflowRuntime runtime, ILogger<RetireOldRoleActivity> logger)
    : RecoveryActivity<RotationPlan, RotationStepResult>(runtime, logger)
{
    protected override async Task<RotationStepResult> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct)
    {
        var (plan, role) = await database.RetireOldRoleAsync(input, ct);
        return new RotationStepResult(plan, [], 0, role);
    }
}
