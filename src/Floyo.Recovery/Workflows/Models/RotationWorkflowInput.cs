namespace Floyo.Recovery.Workflows.Models;

/// <param name="GraceSeconds">Overrides ROTATION_GRACE_SECONDS (a breach passes 0).</param>
public sealed record RotationWorkflowInput(bool DatabaseCredential = true, bool TaggedSecrets = true, double? GraceSeconds = null, string? RotationId = null);
