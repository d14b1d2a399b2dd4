using Floyo.Recovery.Rotation;

namespace Floyo.Recovery.Workflows.Models;

public sealed record RotationStepResult(RotationPlan Plan, IReadOnlyList<string> DisabledVersions, int SessionsEnded, string? Role = null);
