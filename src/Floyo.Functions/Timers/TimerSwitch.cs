using Floyo.Recovery;
using Microsoft.Extensions.Configuration;

namespace Floyo.Functions.Timers;

/// <summary>
/// TIMERS_ENABLED: false on a cold standby (infra/bicep: standbyEnabled), so its timers fire but start nothing
/// while the primary runs the schedule; the failover runbook turns it on. Read at every firing, so flipping the
/// app setting needs no deployment. Anything but true/false (or unset: on) is a configuration error, never a
/// silent "off".
/// </summary>
public static class TimerSwitch
{
    public const string Setting = "TIMERS_ENABLED";

    public static bool Enabled(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration[Setting]?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }
        return bool.TryParse(value, out var enabled)
            ? enabled
            : throw new ConfigurationException($"{Setting} must be 'true' or 'false', not '{value}'");
    }
}
