namespace Floyo.Recovery.Rotation;

public enum RotationKind
{
    /// <summary>The application's PostgreSQL login, rotated blue/green.</summary>
    PostgresLogin,

    /// <summary>Any other secret tagged <c>floyo-rotation=random</c>: a new random value.</summary>
    Random,
}

public enum RotationPhase
{
    /// <summary>A new value must still be published.</summary>
    Publish,

    /// <summary>The new value is published; only retiring the previous one remains (a resumed rotation).</summary>
    Retire,
}

/// <summary>
/// The state of one secret's rotation, passed from step to step (and, under Durable Functions, from
/// activity to activity, where it is stored in the task hub's history). It therefore never holds a value:
/// a new password exists only inside the step that sets, proves and publishes it. Every step re-reads the
/// store and the database, so a rerun from any point, even with a freshly made plan, converges.
/// </summary>
public sealed record RotationPlan(
    string RotationId,
    string Secret,
    RotationKind Kind,
    RotationPhase Phase,
    string? PreviousVersion,
    string? PreviousRole,
    string? TargetRole,
    double GraceSeconds,
    string? NewVersion = null,
    DateTimeOffset? PublishedAt = null,
    DateTimeOffset? RetireAfter = null)
{
    public IReadOnlyList<string> CompletedSteps { get; init; } = [];

    public bool Done(string step) => CompletedSteps.Contains(step, StringComparer.Ordinal);

    public RotationPlan With(string step) => this with { CompletedSteps = [.. CompletedSteps, step] };
}

/// <summary>Step names, as checkpoints and as they appear in reports and timelines.</summary>
public static class RotationSteps
{
    public const string Plan = "plan";
    public const string PasswordSet = "password-set";
    public const string LoginProven = "login-proven";
    public const string Published = "published";
    public const string PreviousDisabled = "previous-disabled";
    public const string OldRoleRetired = "old-role-retired";
    public const string OldSessionsEnded = "old-sessions-ended";
    public const string Completed = "completed";
}

/// <summary>
/// What a rotation did, for people and the breach timeline: names and versions, never values.
/// <paramref name="Resumed"/>: this run only finished an earlier, interrupted rotation.
/// </summary>
public sealed record RotationOutcome(
    string Secret,
    RotationKind Kind,
    string NewVersion,
    string? Role,
    string? RetiredRole,
    IReadOnlyList<string> DisabledVersions,
    int SessionsEnded,
    DateTimeOffset PublishedAt,
    DateTimeOffset CompletedAt,
    bool Resumed = false);
