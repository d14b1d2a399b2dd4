namespace Floyo.Recovery.Rotation;

/// <summary>
/// Called after every rotation step has taken effect. Production registers <see cref="NoCheckpoint"/>;
/// tests register one that stops the process (throws) after step k, to prove a rerun completes.
/// </summary>
public interface IRotationCheckpoint
{
    ValueTask ReachedAsync(RotationPlan plan, string step, CancellationToken ct);
}

public sealed class NoCheckpoint : IRotationCheckpoint
{
    public ValueTask ReachedAsync(RotationPlan plan, string step, CancellationToken ct) => ValueTask.CompletedTask;
}

public static class RotationCheckpointExtensions
{
    /// <summary>The plan with <paramref name="step"/> done, reported to the checkpoint before it is returned.</summary>
    public static async Task<RotationPlan> AdvanceAsync(this IRotationCheckpoint checkpoint, RotationPlan plan, string step, CancellationToken ct)
    {
        var next = plan.With(step);
        await checkpoint.ReachedAsync(next, step, ct);
        return next;
    }
}
