using System.Text.Json;
using Floyo.Recovery.Workflows.Orchestrations;

namespace Floyo.Recovery.Workflows.Models;

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
