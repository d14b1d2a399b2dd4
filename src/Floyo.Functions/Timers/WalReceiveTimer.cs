using Floyo.Recovery;
using Floyo.Recovery.Wal;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Timers;

/// <summary>
/// Pull mode's timer (SCHEDULE_WAL_RECEIVE, every 5 minutes by default): drains WAL_RECEIVE_SLOT up to the
/// server's current position into the archive. Runs in the timer itself, not as an orchestration: one short,
/// idempotent step whose progress lives in the slot. Without a slot it reports "not configured" and succeeds.
/// </summary>
public sealed partial class WalReceiveTimer(WalReceiver receiver, IConfiguration configuration, ILogger<WalReceiveTimer> logger)
{
    [Function("WalReceiveTimer")]
    public async Task<WalReceiveResult> RunAsync([TimerTrigger("%" + Schedules.WalReceiveSetting + "%")] TimerInfo timer, CancellationToken ct)
    {
        if (!TimerSwitch.Enabled(configuration))
        {
            // A cold standby: the primary's app drains the slot; two receivers would fight over it.
            return new WalReceiveResult(ReceiveOutcome.NotConfigured, $"{TimerSwitch.Setting} is false (a standby)", [], null);
        }
        try
        {
            var result = await receiver.RunAsync(untilNow: true, ct);
            LogDone(logger, result.Outcome.ToString(), result.Detail);
            return result;
        }
        catch (UnavailableException e)
        {
            // Another instance is draining the slot right now (overlapping firings): that run archives the WAL.
            LogBusy(logger, e.Message);
            return new WalReceiveResult(ReceiveOutcome.Received, e.Message, [], null);
        }
    }

    [LoggerMessage(EventId = 9020, Level = LogLevel.Information, Message = "WalReceiveTimer: {Outcome}: {Detail}")]
    private static partial void LogDone(ILogger logger, string outcome, string detail);

    [LoggerMessage(EventId = 9021, Level = LogLevel.Information, Message = "WalReceiveTimer: the slot is being drained by another run: {Reason}")]
    private static partial void LogBusy(ILogger logger, string reason);
}
