using Floyo.Functions.Rotation;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Floyo.Functions.Timers;

/// <summary>
/// The scheduled credential rotation (SCHEDULE_CREDENTIAL_ROTATION, monthly by default). It shares one
/// instance id with the Key Vault near-expiry webhook, so a schedule and an event never rotate at once.
/// </summary>
public sealed class RotationTimer(CredentialRotationStarter starter)
{
    [Function("CredentialRotationTimer")]
    public Task<RotationStart> RunAsync([TimerTrigger("%" + Schedules.CredentialRotationSetting + "%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        starter.StartAsync(client, $"timer {Schedules.CredentialRotation.Function}", ct);
}
