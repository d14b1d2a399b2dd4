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
