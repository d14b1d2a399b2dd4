using Floyo.Recovery.Checks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;

namespace Floyo.Functions.Timers;

/// <summary>
/// The health checks (SCHEDULE_CHECKS, every 15 minutes by default): runs them and raises or resolves one incident
/// per check (<c>check:&lt;name&gt;</c>). They run in the timer itself, not in an orchestration: a few reads every
/// 15 minutes need no replay, and an instance per run would add 96 histories a day to the task hub. A firing that
/// repeats (past-due, a second app instance) sends nothing twice: incidents are deduplicated by key.
/// </summary>
public sealed class ChecksTimer(CheckRunner runner, CheckAlerter alerter, IConfiguration configuration, TimeProvider clock)
{
    [Function("ChecksTimer")]
    public async Task<CheckReport> RunAsync([TimerTrigger("%" + Schedules.ChecksSetting + "%")] TimerInfo timer, CancellationToken ct)
    {
        if (!TimerSwitch.Enabled(configuration))
        {
            // A cold standby watches nothing: the primary's checks page; the same findings twice would page twice.
            return new CheckReport(clock.GetUtcNow(), []);
        }
        var report = await runner.RunAsync(ct);
        await alerter.ApplyAsync(report, ct);
        return report;
    }
}
