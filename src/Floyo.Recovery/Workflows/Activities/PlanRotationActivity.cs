using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Activities;

public sealed class PlanRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random, WorkflowRuntime runtime, ILogger<PlanRotationActivity> logger)
    : RecoveryActivity<PlanRotationInput, RotationPlan>(runtime, logger)
{
    protected override Task<RotationPlan> ExecuteAsync(PlanRotationInput input, TaskActivityContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        var grace = input.GraceSeconds is { } s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
        return input.Kind == RotationKind.PostgresLogin
            ? database.PlanAsync(input.RotationId, grace, ct)
            : random.PlanAsync(input.Secret ?? throw new RecoveryException("a random-secret rotation needs a secret name"), input.RotationId, grace, ct);
    }
}
