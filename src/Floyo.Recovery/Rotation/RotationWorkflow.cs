using Floyo.Recovery.Secrets;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Rotation;

/// <param name="GraceSeconds">Overrides ROTATION_GRACE_SECONDS (a breach passes 0).</param>
public sealed record RotationWorkflowInput(bool DatabaseCredential = true, bool TaggedSecrets = true, double? GraceSeconds = null, string? RotationId = null);

public sealed record RotationWorkflowResult(string RotationId, IReadOnlyList<RotationOutcome> Rotated);

public sealed record PlanRotationInput(string RotationId, RotationKind Kind, string? Secret, double? GraceSeconds);

public sealed record RotationStepResult(RotationPlan Plan, IReadOnlyList<string> DisabledVersions, int SessionsEnded, string? Role = null);

/// <summary>
/// The rotation as a Durable orchestration: the same steps as <see cref="RotationRunner"/>, one activity
/// each, and a durable timer for the grace period, so a host restart at any point resumes where it stopped
/// (and each step is idempotent should an activity run twice). Start it with a fixed instance id
/// (for example <c>credential-rotation</c>) so a schedule and a Key Vault near-expiry event never run two at once.
/// </summary>
public sealed class RotationOrchestrator : TaskOrchestrator<RotationWorkflowInput, RotationWorkflowResult>
{
    internal static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromSeconds(5), 2));

    public override async Task<RotationWorkflowResult> RunAsync(TaskOrchestrationContext context, RotationWorkflowInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        input ??= new RotationWorkflowInput();
        var rotationId = input.RotationId ?? $"rot-{context.InstanceId}";
        var plans = new List<RotationPlan>();

        context.SetCustomStatus("publishing");
        if (input.DatabaseCredential)
        {
            var plan = await context.CallActivityAsync<RotationPlan>(nameof(PlanRotationActivity), new PlanRotationInput(rotationId, RotationKind.PostgresLogin, null, input.GraceSeconds), Retry);
            plans.Add(await context.CallActivityAsync<RotationPlan>(nameof(PublishRotationActivity), plan, Retry));
        }
        if (input.TaggedSecrets)
        {
            var secrets = await context.CallActivityAsync<List<string>>(nameof(ListSecretsForRotationActivity), rotationId, Retry);
            foreach (var secret in secrets)
            {
                var plan = await context.CallActivityAsync<RotationPlan>(nameof(PlanRotationActivity), new PlanRotationInput(rotationId, RotationKind.Random, secret, input.GraceSeconds), Retry);
                plans.Add(await context.CallActivityAsync<RotationPlan>(nameof(PublishRotationActivity), plan, Retry));
            }
        }

        var retireAfter = plans.Select(p => p.RetireAfter ?? DateTimeOffset.MinValue).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        if (retireAfter > context.CurrentUtcDateTime)
        {
            context.SetCustomStatus("grace period");
            // A second of margin: the activities check the grace period against their own machine's clock.
            await context.CreateTimer(retireAfter.UtcDateTime.AddSeconds(1), CancellationToken.None);
        }

        context.SetCustomStatus("retiring");
        var outcomes = new List<RotationOutcome>();
        foreach (var published in plans)
        {
            var disabled = await context.CallActivityAsync<RotationStepResult>(nameof(DisablePreviousVersionsActivity), published, Retry);
            var plan = disabled.Plan;
            var sessions = 0;
            string? retired = null;
            if (plan.Kind == RotationKind.PostgresLogin)
            {
                var retiredStep = await context.CallActivityAsync<RotationStepResult>(nameof(RetireOldRoleActivity), plan, Retry);
                plan = retiredStep.Plan;
                retired = retiredStep.Role;
                var ended = await context.CallActivityAsync<RotationStepResult>(nameof(EndOldSessionsActivity), plan, Retry);
                plan = ended.Plan;
                sessions = ended.SessionsEnded;
            }
            await context.CallActivityAsync<RotationPlan>(nameof(CompleteRotationActivity), plan, Retry);
            outcomes.Add(new RotationOutcome(plan.Secret, plan.Kind, plan.NewVersion!, plan.TargetRole, retired, disabled.DisabledVersions, sessions,
                plan.PublishedAt!.Value, context.CurrentUtcDateTime, plan.Phase == RotationPhase.Retire));
        }
        context.SetCustomStatus("completed");
        return new RotationWorkflowResult(rotationId, outcomes);
    }

    /// <summary>Every class to register with <c>AddTasks</c> (the lead's DurableTaskRegistryExtensions lists).</summary>
    public static IReadOnlyList<Type> Activities { get; } =
    [
        typeof(PlanRotationActivity),
        typeof(ListSecretsForRotationActivity),
        typeof(PublishRotationActivity),
        typeof(DisablePreviousVersionsActivity),
        typeof(RetireOldRoleActivity),
        typeof(EndOldSessionsActivity),
        typeof(CompleteRotationActivity),
    ];
}

public sealed class PlanRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random) : TaskActivity<PlanRotationInput, RotationPlan>
{
    public override Task<RotationPlan> RunAsync(TaskActivityContext context, PlanRotationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var grace = input.GraceSeconds is { } s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
        return input.Kind == RotationKind.PostgresLogin
            ? database.PlanAsync(input.RotationId, grace, CancellationToken.None)
            : random.PlanAsync(input.Secret ?? throw new RecoveryException("a random-secret rotation needs a secret name"), input.RotationId, grace, CancellationToken.None);
    }
}

/// <summary>The random secrets to rotate: tagged <c>floyo-rotation=random</c>, except the database credential itself.</summary>
public sealed class ListSecretsForRotationActivity(ISecretStore store, Microsoft.Extensions.Options.IOptions<Configuration.RotationOptions> options) : TaskActivity<string, List<string>>
{
    public override async Task<List<string>> RunAsync(TaskActivityContext context, string input)
    {
        var tagged = await store.ListTaggedForRotationAsync(CancellationToken.None);
        return [.. tagged.Where(t => t.Name != options.Value.Secret && t.Tag(SecretTags.Rotation) == SecretTags.Random).Select(t => t.Name)];
    }
}

public sealed class PublishRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random) : TaskActivity<RotationPlan, RotationPlan>
{
    public override Task<RotationPlan> RunAsync(TaskActivityContext context, RotationPlan input) =>
        input.Kind == RotationKind.PostgresLogin ? database.PublishAsync(input, CancellationToken.None) : random.PublishAsync(input, CancellationToken.None);
}

public sealed class DisablePreviousVersionsActivity(DatabaseCredentialRotator database, RandomSecretRotator random) : TaskActivity<RotationPlan, RotationStepResult>
{
    public override async Task<RotationStepResult> RunAsync(TaskActivityContext context, RotationPlan input)
    {
        var (plan, disabled) = input.Kind == RotationKind.PostgresLogin
            ? await database.DisablePreviousAsync(input, CancellationToken.None)
            : await random.DisablePreviousAsync(input, CancellationToken.None);
        return new RotationStepResult(plan, disabled, 0);
    }
}

public sealed class RetireOldRoleActivity(DatabaseCredentialRotator database) : TaskActivity<RotationPlan, RotationStepResult>
{
    public override async Task<RotationStepResult> RunAsync(TaskActivityContext context, RotationPlan input)
    {
        var (plan, role) = await database.RetireOldRoleAsync(input, CancellationToken.None);
        return new RotationStepResult(plan, [], 0, role);
    }
}

public sealed class EndOldSessionsActivity(DatabaseCredentialRotator database) : TaskActivity<RotationPlan, RotationStepResult>
{
    public override async Task<RotationStepResult> RunAsync(TaskActivityContext context, RotationPlan input)
    {
        var (plan, ended) = await database.EndOldSessionsAsync(input, CancellationToken.None);
        return new RotationStepResult(plan, [], ended);
    }
}

public sealed class CompleteRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random) : TaskActivity<RotationPlan, RotationPlan>
{
    public override Task<RotationPlan> RunAsync(TaskActivityContext context, RotationPlan input) =>
        input.Kind == RotationKind.PostgresLogin ? database.CompleteAsync(input, CancellationToken.None) : random.CompleteAsync(input, CancellationToken.None);
}
