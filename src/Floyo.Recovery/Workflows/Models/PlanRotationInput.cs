using Floyo.Recovery.Rotation;

namespace Floyo.Recovery.Workflows.Models;

public sealed record PlanRotationInput(string RotationId, RotationKind Kind, string? Secret, double? GraceSeconds);
