namespace Floyo.Recovery.Workflows.Models;

/// <param name="Random">Secrets tagged <c>floyo-rotation=random</c>, the application's credential excepted.</param>
/// <param name="Skipped">Tagged with another kind of rotation, which the workflow does not do.</param>
public sealed record SecretsToRotate(IReadOnlyList<string> Random, IReadOnlyList<string> Skipped);
