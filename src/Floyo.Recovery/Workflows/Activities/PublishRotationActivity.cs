using Floyo.Recovery.Rotation;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

public sealed class PublishRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random, WorkflowRuntime runtime, ILogger<PublishRotationActivity> logger)
    : RecoveryActivity<RotationPlan, RotationPlan>(runtime, logger)
{
    protected override Task<RotationPlan> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct) =>
        input.Kind == RotationKind.PostgresLogin ? database.PublishAsync(input, ct) : random.PublishAsync(input, ct);
}
