namespace Floyo.Recovery.Restores;

/// <summary>
/// The restored copy could not take the target's name after the original was renamed away: the original has
/// been put back (or the message says how it stands) and the copy is kept, not dropped, under <see cref="Staging"/>.
/// </summary>
public sealed class StagingKeptException(string message, string staging, Exception inner) : RecoveryException(message, inner)
{
    public string Staging { get; } = staging;
}
