using Floyo.Recovery.Notifications;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// The rotation as a Durable orchestration: the same steps as <see cref="RotationRunner"/>, one activity
/// each, and a durable timer for the grace period, so a host restart at any point resumes where it stopped
/// (and each step is idempotent should an activity run twice). The Functions app starts it with a fixed
/// instance id (<c>credential-rotation</c>), so a schedule and a Key Vault near-expiry event never run two at
/// once; a breach runs it under its own id, and the steps' lock (DatabaseCredentialRotator) keeps the two from
/// interleaving. Only transient failures (the server restarting or unreachable) are retried; anything else fails the
/// workflow at once with the step's one-line message.
/// </summary>
public sealed class RotationOrchestrator : TaskOrchestrator<RotationWorkflowInput, RotationWorkflowResult>
{
    /// <summary>One incident for rotation: a failed rotation can leave a credential half-published.</summary>
    public const string AlertKey = "rotation";

    public override async Task<RotationWorkflowResult> RunAsync(TaskOrchestrationContext context, RotationWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        RotationWorkflowResult result;
        try
        {
            result = await RotateAsync(context, input ?? new RotationWorkflowInput());
        }
        catch (TaskFailedException e)
        {
            // The step's own message, not the framework's "Task 'X' (#n) failed with an unhandled exception: ...".
            var error = WorkflowTasks.Describe(e);
            await WorkflowTasks.AlertAsync(context, new AlertInput(AlertKey, true, NotificationSeverity.Critical, "Credential rotation failed", error));
            throw RecoveryException.Of(ErrorKinds.Of(e), error, e);
        }
        await WorkflowTasks.AlertAsync(context, new AlertInput(AlertKey, false, NotificationSeverity.Critical, "", $"Credential rotation {result.RotationId} completed."));
        return result;
    }

    private static async Task<RotationWorkflowResult> RotateAsync(TaskOrchestrationContext context, RotationWorkflowInput input)
    {
        var retry = WorkflowTasks.Options(null);
        // A fixed instance id runs many rotations over time; the start time keeps each rotation's id its own (and is replay-safe).
        var rotationId = input.RotationId ?? $"rot-{context.InstanceId}-{context.CurrentUtcDateTime:yyyyMMdd'T'HHmmss'Z'}";
        var plans = new List<RotationPlan>();
        IReadOnlyList<string> skipped = [];

        context.SetCustomStatus(new RotationStatus("publishing"));
        if (input.DatabaseCredential)
        {
            var plan = await context.CallActivityAsync<RotationPlan>(nameof(PlanRotationActivity), new PlanRotationInput(rotationId, RotationKind.PostgresLogin, null, input.GraceSeconds), retry);
            plans.Add(await context.CallActivityAsync<RotationPlan>(nameof(PublishRotationActivity), plan, retry));
        }
        if (input.TaggedSecrets)
        {
            var secrets = await context.CallActivityAsync<SecretsToRotate>(nameof(ListSecretsForRotationActivity), rotationId, retry);
            skipped = secrets.Skipped;
            foreach (var secret in secrets.Random)
            {
                var plan = await context.CallActivityAsync<RotationPlan>(nameof(PlanRotationActivity), new PlanRotationInput(rotationId, RotationKind.Random, secret, input.GraceSeconds), retry);
                plans.Add(await context.CallActivityAsync<RotationPlan>(nameof(PublishRotationActivity), plan, retry));
            }
        }

        var retireAfter = plans.Select(p => p.RetireAfter ?? DateTimeOffset.MinValue).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        if (retireAfter > context.CurrentUtcDateTime)
        {
            context.SetCustomStatus(new RotationStatus(RotationStatus.GracePeriod, retireAfter));
            // A second of margin: the activities check the grace period against their own machine's clock.
            await context.CreateTimer(retireAfter.UtcDateTime.AddSeconds(1), CancellationToken.None);
        }

        context.SetCustomStatus(new RotationStatus("retiring"));
        var outcomes = new List<RotationOutcome>();
        foreach (var published in plans)
        {
            var disabled = await context.CallActivityAsync<RotationStepResult>(nameof(DisablePreviousVersionsActivity), published, retry);
            var plan = disabled.Plan;
            var sessions = 0;
            string? retired = null;
            if (plan.Kind == RotationKind.PostgresLogin)
            {
                var retiredStep = await context.CallActivityAsync<RotationStepResult>(nameof(RetireOldRoleActivity), plan, retry);
                plan = retiredStep.Plan;
                retired = retiredStep.Role;
                var ended = await context.CallActivityAsync<RotationStepResult>(nameof(EndOldSessionsActivity), plan, retry);
                plan = ended.Plan;
                sessions = ended.SessionsEnded;
            }
            await context.CallActivityAsync<RotationPlan>(nameof(CompleteRotationActivity), plan, retry);
            outcomes.Add(new RotationOutcome(plan.Secret, plan.Kind, plan.NewVersion!, plan.TargetRole, retired, disabled.DisabledVersions, sessions,
                plan.PublishedAt!.Value, context.CurrentUtcDateTime, plan.Phase == RotationPhase.Retire));
        }
        context.SetCustomStatus(new RotationStatus("completed"));
        return new RotationWorkflowResult(rotationId, outcomes, skipped);
    }
}
