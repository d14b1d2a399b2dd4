using System.Text.RegularExpressions;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>
/// The application's PostgreSQL login: two login roles that take turns (blue/green), both members of one
/// group role that holds every grant, and the secret the application reads its credential from.
/// </summary>
public sealed class RotationOptions
{
    [ConfigurationKeyName("APP_DB_SECRET")]
    public string Secret { get; set; } = "floyo-app-db";

    [ConfigurationKeyName("APP_DB_GROUP_ROLE")]
    public string GroupRole { get; set; } = "floyo_app";

    [ConfigurationKeyName("APP_DB_BLUE_ROLE")]
    public string BlueRole { get; set; } = "floyo_app_blue";

    [ConfigurationKeyName("APP_DB_GREEN_ROLE")]
    public string GreenRole { get; set; } = "floyo_app_green";

    /// <summary>The application's database (CONNECT is granted on it, logins are proven against it); DATABASE_URL's when unset.</summary>
    [ConfigurationKeyName("APP_DB_DATABASE")]
    public string? Database { get; set; }

    /// <summary>
    /// How long the previous credential keeps working after a new one is published. Must exceed how often
    /// the application re-reads its secret (and its pool's connection lifetime).
    /// </summary>
    [ConfigurationKeyName("ROTATION_GRACE_SECONDS")]
    public double GraceSeconds { get; set; } = 900;

    public TimeSpan Grace => TimeSpan.FromSeconds(GraceSeconds);
}

internal sealed partial class RotationOptionsValidator : IValidateOptions<RotationOptions>
{
    public ValidateOptionsResult Validate(string? name, RotationOptions options)
    {
        var failures = new List<string>();
        try
        {
            SecretName.Check(options.Secret, "APP_DB_SECRET");
        }
        catch (RecoveryException e)
        {
            failures.Add(e.Message);
        }
        foreach (var (key, value) in new[] { ("APP_DB_GROUP_ROLE", options.GroupRole), ("APP_DB_BLUE_ROLE", options.BlueRole), ("APP_DB_GREEN_ROLE", options.GreenRole) })
        {
            if (!RoleName().IsMatch(value ?? ""))
            {
                failures.Add($"{key} '{value}' is not a plain role name: use lower-case letters, digits and '_' (at most 63)");
            }
        }
        if (!string.IsNullOrEmpty(options.Database) && Postgres.PgIdentifier.Problem(options.Database) is { } problem)
        {
            failures.Add($"APP_DB_DATABASE is not a valid database name: {problem} ({Postgres.PgIdentifier.Rule})");
        }
        if (new HashSet<string>(StringComparer.Ordinal) { options.GroupRole, options.BlueRole, options.GreenRole }.Count != 3)
        {
            failures.Add("APP_DB_GROUP_ROLE, APP_DB_BLUE_ROLE and APP_DB_GREEN_ROLE must be three different roles");
        }
        if (options.GraceSeconds is < 0 or > 7 * 24 * 3600)
        {
            failures.Add("ROTATION_GRACE_SECONDS must be between 0 and 604800");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    internal static partial Regex RoleName();
}
