using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>How the breach workflow isolates the database, rotates credentials, waits for approval and reminds.</summary>
public sealed class BreachOptions
{
    /// <summary>Revoke CONNECT from the application roles and end their sessions on the target database (in a drill, staging only).</summary>
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

    /// <summary>How long the breach workflow waits for a second person to approve the restore; the database stays isolated if nobody does.</summary>
    [ConfigurationKeyName("BREACH_APPROVAL_TIMEOUT")]
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(4);

    /// <summary>How often the GDPR notification reminder repeats until someone acknowledges it (deadline: 72 h after detection).</summary>
    [ConfigurationKeyName("BREACH_REMINDER_INTERVAL")]
    public TimeSpan ReminderInterval { get; set; } = TimeSpan.FromHours(12);

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
        if (options.ApprovalTimeout < TimeSpan.FromSeconds(1) || options.ApprovalTimeout > TimeSpan.FromDays(7))
        {
            failures.Add("BREACH_APPROVAL_TIMEOUT must be between 00:00:01 and 7.00:00:00");
        }
        if (options.ReminderInterval < TimeSpan.FromSeconds(1) || options.ReminderInterval > TimeSpan.FromHours(72))
        {
            failures.Add("BREACH_REMINDER_INTERVAL must be between 00:00:01 and 3.00:00:00");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
