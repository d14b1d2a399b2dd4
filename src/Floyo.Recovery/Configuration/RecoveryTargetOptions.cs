using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>The plan's recovery objectives: targets (RTO 4 h, RPO 1 h) and the maximum acceptable values (24 h).</summary>
public sealed class RecoveryTargetOptions
{
    [ConfigurationKeyName("RTO_TARGET")]
    public TimeSpan RtoTarget { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Also what the health check holds the newest verified backup's age to.</summary>
    [ConfigurationKeyName("RPO_TARGET")]
    public TimeSpan RpoTarget { get; set; } = TimeSpan.FromHours(1);

    [ConfigurationKeyName("RTO_MAX")]
    public TimeSpan RtoMax { get; set; } = TimeSpan.FromHours(24);

    [ConfigurationKeyName("RPO_MAX")]
    public TimeSpan RpoMax { get; set; } = TimeSpan.FromHours(24);
}

internal sealed class RecoveryTargetOptionsValidator : IValidateOptions<RecoveryTargetOptions>
{
    public ValidateOptionsResult Validate(string? name, RecoveryTargetOptions options)
    {
        var failures = new List<string>();
        if (options.RtoTarget <= TimeSpan.Zero || options.RpoTarget <= TimeSpan.Zero)
        {
            failures.Add("RTO_TARGET and RPO_TARGET must be positive, e.g. 01:00:00");
        }
        if (options.RtoMax < options.RtoTarget || options.RpoMax < options.RpoTarget)
        {
            failures.Add("RTO_MAX and RPO_MAX must not be below their targets");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
