using Floyo.Recovery.Rotation;

namespace Floyo.Recovery.Workflows.Models;

/// <param name="Skipped">Secrets tagged for a kind of rotation this workflow does not do, with why.</param>
public sealed record RotationWorkflowResult(string RotationId, IReadOnlyList<RotationOutcome> Rotated, IReadOnlyList<string>? Skipped = null);
