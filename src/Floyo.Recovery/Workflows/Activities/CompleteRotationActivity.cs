using Floyo.Recovery.Rotation;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

public sealed class CompleteRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random, WorkflowRuntime runtime, ILogger<CompleteRotationActivity> logger)
    : RecoveryActivity<RotationPlan, RotationPlan>(runtime, logger)
{
    protected override Task<RotationPlan> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct) =>
        input.Kind == RotationKind.PostgresLogin ? database.CompleteAsync(input, ct) : random.CompleteAsync(input, ct);
}
