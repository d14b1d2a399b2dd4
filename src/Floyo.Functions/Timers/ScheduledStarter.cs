using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Timers;

public sealed record ScheduledStart(string InstanceId, DateTimeOffset Slot, bool Started);

/// <summary>
/// Starts a timer's orchestration at most once per schedule slot: the instance id is the slot, an
/// existing instance (running or finished) is left alone, and a race lost to another app instance
/// counts as "already started".
/// </summary>
public sealed partial class ScheduledStarter(IConfiguration configuration, TimeProvider clock, ILogger<ScheduledStarter> logger)
{
    public async Task<ScheduledStart> StartAsync(DurableTaskClient client, Schedule schedule, Func<DateTimeOffset, object> input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(input);
        var expression = configuration[schedule.Setting] is { Length: > 0 } configured ? configured : schedule.Default;
        var slot = Schedules.SlotFor(Schedules.Parse(expression, schedule.Setting), clock.GetUtcNow());
        var id = Schedules.InstanceId(schedule, slot);
        if (!TimerSwitch.Enabled(configuration))
        {
            // A standby: the primary runs this slot; the client (and this app's task hub) is not touched.
            LogTimersDisabled(logger, schedule.Function, id);
            return new ScheduledStart(id, slot, false);
        }
        if (await client.GetInstanceAsync(id, getInputsAndOutputs: false, ct) is { } existing)
        {
            LogAlreadyStarted(logger, schedule.Function, id, existing.RuntimeStatus.ToString());
            return new ScheduledStart(id, slot, false);
        }
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(schedule.Orchestrator, input(slot), new StartOrchestrationOptions(id), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Another instance of the app won the race for this slot: that is the one run we want.
            if (await client.GetInstanceAsync(id, getInputsAndOutputs: false, ct) is { } winner)
            {
                LogAlreadyStarted(logger, schedule.Function, id, winner.RuntimeStatus.ToString());
                return new ScheduledStart(id, slot, false);
            }
            throw;
        }
        LogStarted(logger, schedule.Function, schedule.Orchestrator, id);
        return new ScheduledStart(id, slot, true);
    }

    public static ScheduledWorkflowInput ScheduledInput(Schedule schedule, DateTimeOffset slot) => new($"timer {schedule.Function}", slot);

    [LoggerMessage(EventId = 5500, Level = LogLevel.Information, Message = "{Function} started {Orchestrator} as {InstanceId}")]
    private static partial void LogStarted(ILogger logger, string function, string orchestrator, string instanceId);

    [LoggerMessage(EventId = 9400, Level = LogLevel.Information, Message = "{Function}: TIMERS_ENABLED=false (a standby); {InstanceId} is not started here")]
    internal static partial void LogTimersDisabled(ILogger logger, string function, string instanceId);

    [LoggerMessage(EventId = 5501, Level = LogLevel.Information, Message = "{Function}: {InstanceId} already exists ({Status}); this slot is not started twice")]
    private static partial void LogAlreadyStarted(ILogger logger, string function, string instanceId, string status);
}
