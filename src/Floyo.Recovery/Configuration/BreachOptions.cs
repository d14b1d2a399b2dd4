using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>How the breach workflow isolates the database and rotates credentials.</summary>
public sealed class BreachOptions
{
    /// <summary>Revoke CONNECT from the application roles and end their sessions. Off only for a drill on a shared server.</summary>
    [ConfigurationKeyName("BREACH_ISOLATE")]
    public bool Isolate { get; set; } = true;

    /// <summary>Comma-separated roles to isolate; the group and both login roles (APP_DB_*_ROLE) when unset.</summary>
    [ConfigurationKeyName("BREACH_ISOLATE_ROLES")]
    public string? IsolateRoles { get; set; }

    /// <summary>
    /// Also revoke CONNECT from PUBLIC when PUBLIC holds it (PostgreSQL's default): otherwise revoking it from
    /// the application roles changes nothing, since they still connect as members of PUBLIC.
    /// </summary>
    [ConfigurationKeyName("BREACH_ISOLATE_PUBLIC")]
    public bool IsolatePublic { get; set; } = true;

    /// <summary>Grace period for the breach's rotation: none by default, the old credentials may be the attacker's.</summary>
    [ConfigurationKeyName("BREACH_ROTATION_GRACE_SECONDS")]
    public double RotationGraceSeconds { get; set; }

    public IReadOnlyList<string> RolesToIsolate(RotationOptions rotation) => string.IsNullOrWhiteSpace(IsolateRoles)
        ? [rotation.GroupRole, rotation.BlueRole, rotation.GreenRole]
        : [.. IsolateRoles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
}

internal sealed class BreachOptionsValidator : IValidateOptions<BreachOptions>
{
    public ValidateOptionsResult Validate(string? name, BreachOptions options)
    {
        var failures = new List<string>();
        foreach (var role in (options.IsolateRoles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!RotationOptionsValidator.RoleName().IsMatch(role))
            {
                failures.Add($"BREACH_ISOLATE_ROLES: '{role}' is not a plain role name");
            }
        }
        if (options.RotationGraceSeconds is < 0 or > 3600)
        {
            failures.Add("BREACH_ROTATION_GRACE_SECONDS must be between 0 and 3600");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
