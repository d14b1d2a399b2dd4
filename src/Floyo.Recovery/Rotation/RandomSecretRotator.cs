using System.Globalization;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Rotation;

/// <summary>
/// Rotates the other application secrets (tagged <c>floyo-rotation=random</c>): a new random value is
/// published as a new version carrying the same tags, and after the grace period every previous version
/// is disabled. There is no server side to change first, so "never publish before it works" holds
/// trivially; the consumer must accept any enabled version during the grace period.
/// </summary>
public sealed partial class RandomSecretRotator(
    ISecretStore store,
    IOptions<RotationOptions> options,
    IRotationCheckpoint checkpoint,
    TimeProvider clock,
    ILogger<RandomSecretRotator> logger)
{
    private static readonly string[] StateTags = [SecretTags.RotatedAt, SecretTags.RotationId, SecretTags.RotationState];

    public async Task<RotationPlan> PlanAsync(string secret, string rotationId, TimeSpan? grace, CancellationToken ct)
    {
        var graceSeconds = (grace ?? options.Value.Grace).TotalSeconds;
        SecretName.Check(secret);
        var current = await store.GetCurrentAsync(secret, ct)
            ?? throw new NotFoundException($"secret '{secret}' is not in {store.Location}");
        if (current.Properties.Tag(SecretTags.Rotation) != SecretTags.Random)
        {
            throw new RefusedException($"secret '{secret}' is not tagged {SecretTags.Rotation}={SecretTags.Random}; it is not rotated with random values");
        }
        RotationPlan plan;
        if (current.Properties.Tag(SecretTags.RotationState) == SecretTags.StatePublished)
        {
            var at = PublishedAt(current.Properties);
            plan = new RotationPlan(current.Properties.Tag(SecretTags.RotationId) ?? rotationId, secret, RotationKind.Random, RotationPhase.Retire,
                null, null, null, graceSeconds, current.Properties.Version, at, at + TimeSpan.FromSeconds(graceSeconds));
        }
        else
        {
            plan = new RotationPlan(rotationId, secret, RotationKind.Random, RotationPhase.Publish, current.Properties.Version, null, null, graceSeconds);
        }
        await checkpoint.ReachedAsync(plan, RotationSteps.Plan, ct);
        return plan.With(RotationSteps.Plan);
    }

    public async Task<RotationPlan> PublishAsync(RotationPlan plan, CancellationToken ct)
    {
        if (plan.Phase == RotationPhase.Retire || plan.Done(RotationSteps.Published))
        {
            return plan;
        }
        var current = await store.GetCurrentAsync(plan.Secret, ct)
            ?? throw new NotFoundException($"secret '{plan.Secret}' is not in {store.Location}");
        if (current.Properties.Tag(SecretTags.RotationId) == plan.RotationId)
        {
            return Published(plan, current.Properties);
        }
        if (current.Properties.Version != plan.PreviousVersion)
        {
            throw new RecoveryException($"secret '{plan.Secret}' changed since rotation {plan.RotationId} was planned; run the rotation again");
        }
        var bytes = int.TryParse(current.Properties.Tag(SecretTags.RandomBytes), CultureInfo.InvariantCulture, out var n) ? n : RandomSecret.DefaultBytes;
        var tags = current.Properties.Tags.Where(t => !StateTags.Contains(t.Key)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        tags[SecretTags.RotatedAt] = clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        tags[SecretTags.RotationId] = plan.RotationId;
        tags[SecretTags.RotationState] = SecretTags.StatePublished;
        var version = await store.SetAsync(plan.Secret, RandomSecret.Create(bytes), tags, current.Properties.ContentType, ct);
        LogPublished(logger, plan.Secret, version.Version);
        var result = Published(plan, version);
        await checkpoint.ReachedAsync(result, RotationSteps.Published, ct);
        return result;
    }

    public async Task<(RotationPlan Plan, IReadOnlyList<string> Disabled)> DisablePreviousAsync(RotationPlan plan, CancellationToken ct)
    {
        var current = await RequireCurrentAsync(plan, ct);
        if (plan.RetireAfter is { } after && clock.GetUtcNow() < after)
        {
            throw new RefusedException($"the grace period of rotation {plan.RotationId} runs until {after:O}; the previous value stays valid until then");
        }
        var disabled = new List<string>();
        foreach (var version in await store.ListVersionsAsync(plan.Secret, ct))
        {
            if (version.Enabled && version.Version != current.Properties.Version)
            {
                await store.DisableVersionAsync(plan.Secret, version.Version, ct);
                disabled.Add(version.Version);
            }
        }
        var result = await checkpoint.AdvanceAsync(plan, RotationSteps.PreviousDisabled, ct);
        return (result, disabled);
    }

    public async Task<RotationPlan> CompleteAsync(RotationPlan plan, CancellationToken ct)
    {
        var current = await RequireCurrentAsync(plan, ct);
        var tags = new Dictionary<string, string>(current.Properties.Tags, StringComparer.Ordinal) { [SecretTags.RotationState] = SecretTags.StateComplete };
        await store.UpdateTagsAsync(plan.Secret, current.Properties.Version, tags, ct);
        var result = await checkpoint.AdvanceAsync(plan, RotationSteps.Completed, ct);
        return result;
    }

    private RotationPlan Published(RotationPlan plan, SecretVersion version)
    {
        var at = PublishedAt(version);
        return plan with { NewVersion = version.Version, PublishedAt = at, RetireAfter = at + TimeSpan.FromSeconds(plan.GraceSeconds), CompletedSteps = [.. plan.CompletedSteps, RotationSteps.Published] };
    }

    private async Task<SecretValue> RequireCurrentAsync(RotationPlan plan, CancellationToken ct)
    {
        var current = await store.GetCurrentAsync(plan.Secret, ct)
            ?? throw new NotFoundException($"secret '{plan.Secret}' is missing from {store.Location}");
        return current.Properties.Version == plan.NewVersion
            ? current
            : throw new RecoveryException($"secret '{plan.Secret}' changed during rotation {plan.RotationId} (now version {current.Properties.Version}); nothing more was retired");
    }

    private static DateTimeOffset PublishedAt(SecretVersion version) =>
        DateTimeOffset.TryParse(version.Tag(SecretTags.RotatedAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : version.CreatedOn;

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "Published {Secret} version {Version} (random value)")]
    private static partial void LogPublished(ILogger logger, string secret, string version);
}
