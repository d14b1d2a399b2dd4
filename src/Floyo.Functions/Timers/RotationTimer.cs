using Floyo.Functions.Rotation;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Timers;

/// <summary>
/// The scheduled credential rotation (SCHEDULE_CREDENTIAL_ROTATION, monthly by default). It shares one
/// instance id with the Key Vault near-expiry webhook, so a schedule and an event never rotate at once.
/// With TIMERS_ENABLED=false (a standby) it starts nothing; the webhook is not a timer and is not affected.
/// </summary>
public sealed class RotationTimer(CredentialRotationStarter starter, IConfiguration configuration, ILogger<RotationTimer> logger)
{
    public const string NotStartedStatus = "TimersDisabled";

    [Function("CredentialRotationTimer")]
    public Task<RotationStart> RunAsync([TimerTrigger("%" + Schedules.CredentialRotationSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        if (!TimerSwitch.Enabled(configuration))
        {
            ScheduledStarter.LogTimersDisabled(logger, Schedules.CredentialRotation.Function, CredentialRotationStarter.InstanceId);
            return Task.FromResult(new RotationStart(CredentialRotationStarter.InstanceId, false, NotStartedStatus));
        }
        return starter.StartAsync(client, $"timer {Schedules.CredentialRotation.Function}", ct);
    }
}
