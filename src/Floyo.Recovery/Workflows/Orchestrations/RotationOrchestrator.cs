using System.Text.Json;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Activities;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Rotation;

/// <param name="GraceSeconds">Overrides ROTATION_GRACE_SECONDS (a breach passes 0).</param>
public sealed record RotationWorkflowInput(bool DatabaseCredential = true, bool TaggedSecrets = true, double? GraceSeconds = null, string? RotationId = null);

/// <param name="Skipped">Secrets tagged for a kind of rotation this workflow does not do, with why.</param>
public sealed record RotationWorkflowResult(string RotationId, IReadOnlyList<RotationOutcome> Rotated, IReadOnlyList<string>? Skipped = null);

/// <summary>The rotation's Durable custom status: its stage, and while it waits, when the previous credentials are retired.</summary>
public sealed record RotationStatus(string Stage, DateTimeOffset? RetireAfter = null)
{
    public const string GracePeriod = "grace period";

    /// <summary>Reads a custom status written by <see cref="RotationOrchestrator"/>; null for anything else.</summary>
    public static RotationStatus? From(string? serialized)
    {
        if (string.IsNullOrEmpty(serialized))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<RotationStatus>(serialized);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <param name="Random">Secrets tagged <c>floyo-rotation=random</c>, the application's credential excepted.</param>
/// <param name="Skipped">Tagged with another kind of rotation, which the workflow does not do.</param>
public sealed record SecretsToRotate(IReadOnlyList<string> Random, IReadOnlyList<string> Skipped);

public sealed record PlanRotationInput(string RotationId, RotationKind Kind, string? Secret, double? GraceSeconds);

public sealed record RotationStepResult(RotationPlan Plan, IReadOnlyList<string> DisabledVersions, int SessionsEnded, string? Role = null);

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

/// <summary>The secrets to rotate: tagged <c>floyo-rotation=random</c>, except the database credential itself; other kinds are reported as skipped.</summary>
public sealed class ListSecretsForRotationActivity(ISecretStore store, Microsoft.Extensions.Options.IOptions<Configuration.RotationOptions> options, WorkflowRuntime runtime, ILogger<ListSecretsForRotationActivity> logger)
    : RecoveryActivity<string, SecretsToRotate>(runtime, logger)
{
    protected override async Task<SecretsToRotate> ExecuteAsync(string input, TaskActivityContext context, CancellationToken ct)
    {
        var tagged = (await store.ListTaggedForRotationAsync(ct)).Where(t => t.Name != options.Value.Secret).ToList();
        return new SecretsToRotate(
            [.. tagged.Where(t => t.Tag(SecretTags.Rotation) == SecretTags.Random).Select(t => t.Name)],
            [.. tagged.Where(t => t.Tag(SecretTags.Rotation) != SecretTags.Random).Select(t => $"{t.Name} ({SecretTags.Rotation}={t.Tag(SecretTags.Rotation)} is not handled here)")]);
    }
}

public sealed class PublishRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random, WorkflowRuntime runtime, ILogger<PublishRotationActivity> logger)
    : RecoveryActivity<RotationPlan, RotationPlan>(runtime, logger)
{
    protected override Task<RotationPlan> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct) =>
        input.Kind == RotationKind.PostgresLogin ? database.PublishAsync(input, ct) : random.PublishAsync(input, ct);
}

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

public sealed class RetireOldRoleActivity(DatabaseCredentialRotator database, WorkflowRuntime runtime, ILogger<RetireOldRoleActivity> logger)
    : RecoveryActivity<RotationPlan, RotationStepResult>(runtime, logger)
{
    protected override async Task<RotationStepResult> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct)
    {
        var (plan, role) = await database.RetireOldRoleAsync(input, ct);
        return new RotationStepResult(plan, [], 0, role);
    }
}

public sealed class EndOldSessionsActivity(DatabaseCredentialRotator database, WorkflowRuntime runtime, ILogger<EndOldSessionsActivity> logger)
    : RecoveryActivity<RotationPlan, RotationStepResult>(runtime, logger)
{
    protected override async Task<RotationStepResult> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct)
    {
        var (plan, ended) = await database.EndOldSessionsAsync(input, ct);
        return new RotationStepResult(plan, [], ended);
    }
}

public sealed class CompleteRotationActivity(DatabaseCredentialRotator database, RandomSecretRotator random, WorkflowRuntime runtime, ILogger<CompleteRotationActivity> logger)
    : RecoveryActivity<RotationPlan, RotationPlan>(runtime, logger)
{
    protected override Task<RotationPlan> ExecuteAsync(RotationPlan input, TaskActivityContext context, CancellationToken ct) =>
        input.Kind == RotationKind.PostgresLogin ? database.CompleteAsync(input, ct) : random.CompleteAsync(input, ct);
}
