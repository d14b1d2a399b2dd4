using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows;

/// <summary>What every orchestrator shares: the retry policy, failure messages, and recording results. All of it is replay-safe.</summary>
internal static class WorkflowTasks
{
    /// <summary>Transient failures only, with backoff: 30 s, 1 min, 2 min, 4 min (a server restart or failover fits inside).</summary>
    public static readonly RetryPolicy TransientRetry = Policy(new RetrySettings(5, TimeSpan.FromSeconds(30), 2.0, TimeSpan.FromMinutes(10)));

    private static readonly string TransientType = typeof(TransientFailureException).FullName!;


    /// <summary>Null settings: <see cref="TransientRetry"/>. One attempt: no retry at all.</summary>
    public static TaskOptions? Options(RetrySettings? settings) => settings switch
    {
        null => TaskOptions.FromRetryPolicy(TransientRetry),
        { MaxAttempts: <= 1 } => null,
        _ => TaskOptions.FromRetryPolicy(Policy(settings)),
    };

    private static RetryPolicy Policy(RetrySettings settings) =>
        new(settings.MaxAttempts, settings.FirstInterval, settings.BackoffCoefficient, settings.MaxInterval)
        {
            HandleFailure = failure => failure.ErrorType == TransientType,
        };

    /// <summary>The one-line message of the failure that stopped an activity (never a stack trace).</summary>
    public static string Describe(Exception e) => e switch
    {
        TaskFailedException failed => failed.FailureDetails.ErrorMessage,
        _ => e.Message,
    };

    /// <summary>Stores a workflow's result; a failure to record is logged and returned, never thrown over the real outcome.</summary>
    public static async Task<string?> RecordAsync(TaskOrchestrationContext context, string workflow, WorkflowOutcome outcome, object result, ILogger logger)
    {
        var record = new RunRecordInput(workflow, context.InstanceId, outcome, context.CurrentUtcDateTime, JsonSerializer.Serialize(result, result.GetType(), Json.Options));
        try
        {
            await context.CallActivityAsync<string>(nameof(RecordRunActivity), record, TaskOptions.FromRetryPolicy(TransientRetry));
            return null;
        }
        catch (TaskFailedException e)
        {
            logger.RecordFailed(workflow, context.InstanceId, Describe(e), e);
            return Describe(e);
        }
    }

    /// <summary>
    /// Sends a notification whose id is derived from the instance (so a replay or retry sends it once). A
    /// failure to notify is logged and returned, never thrown over the workflow's own outcome.
    /// </summary>
    public static async Task<NotificationReceipt?> NotifyAsync(TaskOrchestrationContext context, string key, NotificationSeverity severity, string title, string text, string? dedupKey = null)
    {
        var notification = new Notification($"{context.InstanceId}-{key}", severity, title, text, new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero), dedupKey ?? context.InstanceId);
        try
        {
            return await context.CallActivityAsync<NotificationReceipt>(nameof(NotifyActivity), notification, TaskOptions.FromRetryPolicy(TransientRetry));
        }
        catch (TaskFailedException e)
        {
            context.CreateReplaySafeLogger(typeof(WorkflowTasks).FullName!).NotificationFailed(notification.Id, Describe(e), e);
            return null;
        }
    }

    /// <summary>
    /// Raises (a failure) or resolves (a success) the incident of one cause. Like <see cref="NotifyAsync"/>, a
    /// failure to alert is logged and returned, never thrown over the workflow's own outcome.
    /// </summary>
    public static async Task<IReadOnlyList<AlertResult>> AlertAsync(TaskOrchestrationContext context, AlertInput alert)
    {
        try
        {
            return await context.CallActivityAsync<IReadOnlyList<AlertResult>>(nameof(AlertActivity), alert, TaskOptions.FromRetryPolicy(TransientRetry));
        }
        catch (TaskFailedException e)
        {
            context.CreateReplaySafeLogger(typeof(WorkflowTasks).FullName!).NotificationFailed(alert.Key, Describe(e), e);
            return [];
        }
    }

    /// <summary>
    /// Opens the incident of this workflow's failure (or records a repeat of its cause), then has its
    /// communication workflow started as an instance of its own (or the repeat raised into it) by
    /// <see cref="StartIncidentCommunicationActivity"/>, which holds a Durable client: a sub-orchestration would
    /// not do, because an orchestration does not end while a task it scheduled is open, and this one runs until
    /// the incident is resolved. Idempotent by the trigger's occurrence and the incident's instance id, so a replay
    /// or a retry starts and tells nothing twice. Like <see cref="NotifyAsync"/>, nothing here is ever thrown
    /// over the workflow's own outcome: null when the incident could not be opened.
    /// </summary>
    public static async Task<RaisedIncident?> RaiseIncidentAsync(TaskOrchestrationContext context, IncidentTrigger trigger)
    {
        RaisedIncident raised;
        try
        {
            raised = await context.CallActivityAsync<RaisedIncident>(nameof(RaiseIncidentActivity), trigger, TaskOptions.FromRetryPolicy(TransientRetry));
        }
        catch (TaskFailedException e)
        {
            context.CreateReplaySafeLogger(typeof(WorkflowTasks).FullName!).IncidentNotRaised(context.InstanceId, trigger.Cause, Describe(e), e);
            return null;
        }
        if (raised.IncidentId is { } id && (raised.Opened || raised.Change is not null))
        {
            await StartCommunicationAsync(context, trigger.Cause, new IncidentCommunicationStart(id, raised.Change));
        }
        return raised;
    }

    /// <summary>Writes a stage to the incident this orchestration opened and wakes its communication workflow; never throws.</summary>
    public static async Task RecordIncidentStageAsync(TaskOrchestrationContext context, string incidentId, string by, string stage, string? message)
    {
        try
        {
            var change = await context.CallActivityAsync<IncidentChange?>(nameof(RecordIncidentStageActivity),
                new IncidentStageInput(incidentId, $"{context.InstanceId}:{stage}", by, stage, message), TaskOptions.FromRetryPolicy(TransientRetry));
            if (change is not null)
            {
                await StartCommunicationAsync(context, IncidentCause.Breach, new IncidentCommunicationStart(incidentId, change));
            }
        }
        catch (TaskFailedException e)
        {
            context.CreateReplaySafeLogger(typeof(WorkflowTasks).FullName!).IncidentNotRaised(context.InstanceId, IncidentCause.Breach, Describe(e), e);
        }
    }

    private static async Task StartCommunicationAsync(TaskOrchestrationContext context, IncidentCause cause, IncidentCommunicationStart start)
    {
        try
        {
            await context.CallActivityAsync<bool>(StartIncidentCommunicationActivity.Name, start, TaskOptions.FromRetryPolicy(TransientRetry));
        }
        catch (TaskFailedException e)
        {
            // The incident is in the store: any 'incident update' or POST .../update starts its plan and catches it up.
            context.CreateReplaySafeLogger(typeof(WorkflowTasks).FullName!).IncidentNotRaised(context.InstanceId, cause, Describe(e), e);
        }
    }
}
