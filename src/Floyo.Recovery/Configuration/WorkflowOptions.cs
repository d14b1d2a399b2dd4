using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>How the Durable workflows behave: the restore approval gate, and whose writes a restore stops.</summary>
public sealed class WorkflowOptions
{
    /// <summary>Require a second person's approval for every restore (HTTP restores into the production database always need one).</summary>
    [ConfigurationKeyName("RESTORE_APPROVAL_REQUIRED")]
    public bool ApprovalRequired { get; set; }

    /// <summary>How long a restore waits for its approval before giving up without touching anything.</summary>
    [ConfigurationKeyName("RESTORE_APPROVAL_TIMEOUT")]
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Comma-separated application roles whose CONNECT is revoked, whose sessions end and which are proven shut
    /// out while a restore runs. Unset: the group and both login roles (APP_DB_GROUP/BLUE/GREEN_ROLE), those
    /// that exist, with every non-superuser session on the target ended.
    /// </summary>
    [ConfigurationKeyName("APP_DB_ROLES")]
    public string? AppRoles { get; set; }

    public IReadOnlyList<string> AppRoleList =>
        (AppRoles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The roles a restore shuts out, and whether an operator named them (then a missing one is refused rather than skipped).</summary>
    public (IReadOnlyList<string> Roles, bool Named) AppRolesOrDefault(RotationOptions rotation)
    {
        ArgumentNullException.ThrowIfNull(rotation);
        return AppRoleList is { Count: > 0 } named ? (named, true) : ([rotation.GroupRole, rotation.BlueRole, rotation.GreenRole], false);
    }
}

internal sealed class WorkflowOptionsValidator : IValidateOptions<WorkflowOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkflowOptions options)
    {
        var failures = new List<string>();
        if (options.ApprovalTimeout < TimeSpan.FromSeconds(1) || options.ApprovalTimeout > TimeSpan.FromDays(7))
        {
            failures.Add("RESTORE_APPROVAL_TIMEOUT must be between 00:00:01 and 7.00:00:00");
        }
        foreach (var role in options.AppRoleList)
        {
            if (Postgres.PgIdentifier.Problem(role) is { } problem)
            {
                failures.Add($"APP_DB_ROLES names a role that is not valid: {problem} ({Postgres.PgIdentifier.Rule})");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
