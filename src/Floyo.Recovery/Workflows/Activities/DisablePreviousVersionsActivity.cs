using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

public sealed class DisablePreviousVersionsActivity(DatabaseCredentialRotator database, RandomSecretRotator random, WorkflowRuntime runtime, ILogger<DisablePreviousVersionsActivity> logger)
    : RecoveryActivity<RotationPlan, RotationStepResult>(runtime, logger)
{
    protected override async Task<RotationStepResult> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct)
    {
        var (plan, disabled) = input.Kind == RotationKind.PostgresLogin
            ? await database.DisablePreviousAsync(input, ct)
            : await random.DisablePreviousAsync(input, ct);
        return new RotationStepResult(plan, disabled, 0);
    }
}
