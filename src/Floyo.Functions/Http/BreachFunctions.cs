using System.Text.Json;
using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Http;

/// <summary>
/// Breach recovery over HTTP: start it (202 with status, approval and acknowledgement URLs), approve the
/// restore as someone other than the requester, acknowledge the GDPR notification, follow it. A request is
/// checked, --since and the clean backup included, before anything starts: a bad one gets 400 and starts
/// nothing. Function keys at least: never anonymous.
/// </summary>
public sealed partial class BreachFunctions(
    BreachPreflight preflight,
    IBackupStore store,
    IOptions<BreachOptions> options,
    TimeProvider clock,
    RequestPrincipal principals,
    ILogger<BreachFunctions> logger)
{
    public const string InstancePrefix = "breach-";

    private static readonly string[] StartFields = ["since", "reason", "drill"];

    [Function("StartBreachRecovery")]
    public async Task<IActionResult> StartAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "breaches")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var (call, refused) = await ApiRequests.ReadAsync(principals, request, StartFields, ct);
        if (call is null)
        {
            return refused!;
        }
        var (requester, body) = call;
        var since = body.String("since", required: true, out var e1);
        var reason = body.String("reason", required: true, out var e2);
        var drill = body.Boolean("drill", out var e3) ?? false;
        if ((e1 ?? e2 ?? e3) is { } fieldError)
        {
            return ApiResults.BadRequest(fieldError);
        }
        if (ApiRequests.ReasonProblem(reason, "what was seen") is { } reasonProblem)
        {
            return ApiResults.BadRequest(reasonProblem);
        }
        BreachCheck check;
        try
        {
            // The workflow checks again; this answers a bad request now instead of in a failed orchestration.
            check = await preflight.CheckAsync(since, drill, ct);
        }
        catch (RecoveryException problem)
        {
            return ApiResults.BadRequest(problem.Message);
        }
        if (await RunningAsync(client, drill, ct) is { } running)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"breach recovery {running} is still running{(drill ? " (drill)" : "")}; follow it, or wait for it to finish");
        }

        var id = Recovery.Workflows.InstanceIds.New(InstancePrefix, clock.GetUtcNow());
        var input = new BreachRecoveryInput(since, reason!.Trim(), requester, drill);
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(BreachRecoveryOrchestrator), input, new StartOrchestrationOptions(id), ct);
        LogStarted(logger, id, requester, check.Incident.Since, drill);

        var status = ApiResults.Url(request, $"breaches/{id}");
        return ApiResults.Accepted(request, status, new
        {
            id,
            since = check.Incident.Since,
            reason = input.Reason,
            drill,
            requestedBy = requester,
            target = check.Target,
            cleanBackup = check.Backup,
            approvalTimeout = options.Value.ApprovalTimeout,
            statusQueryGetUri = status,
            approvePostUri = ApiResults.Url(request, $"breaches/{id}/approve"),
            gdprNotifiedPostUri = ApiResults.Url(request, $"breaches/{id}/gdpr-notified"),
        });
    }

    [Function("ApproveBreachRestore")]
    public Task<IActionResult> ApproveAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "breaches/{id}/approve")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        return ApprovalEndpoint.ApproveAsync<BreachProgress, BreachRecoveryInput>(
            new ApprovalRoute("breach recovery", "breaches", InstancePrefix, nameof(BreachRecoveryOrchestrator), BreachStages.AwaitingApproval,
                "requested this breach recovery and cannot approve its restore"),
            request, id, client, principals, p => p.Stage, i => i.RequestedBy, approver => LogApproved(logger, id, approver), ct);
    }

    /// <summary>Someone says the supervisory authority has been notified: the reminders stop and the workflow completes.</summary>
    [Function("AcknowledgeBreachNotification")]
    public async Task<IActionResult> GdprNotifiedAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "breaches/{id}/gdpr-notified")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var (by, comment, problem) = await ApiRequests.ReadCommentAsync(principals, request, approving: false, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (await DurableQueries.FindAsync(client, id, InstancePrefix, nameof(BreachRecoveryOrchestrator), ct) is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"no breach recovery with id '{id}'");
        }
        var reminders = await client.GetInstanceAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), ct);
        if (reminders is null || reminders.IsCompleted)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, reminders is null
                ? $"breach recovery {id} has not started its GDPR reminders yet; try again in a moment"
                : $"the GDPR notification of breach recovery {id} was already acknowledged");
        }
        await client.RaiseEventAsync(reminders.InstanceId, GdprReminderOrchestrator.AcknowledgementEvent, new GdprAcknowledgement(by!, comment), ct);
        LogAcknowledged(logger, id, by!);
        return ApiResults.Json(StatusCodes.Status202Accepted, new { id, acknowledgedBy = by, statusQueryGetUri = ApiResults.Url(request, $"breaches/{id}") });
    }

    [Function("GetBreachRecovery")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "breaches/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        var state = await DurableQueries.FindAsync(client, id, InstancePrefix, nameof(BreachRecoveryOrchestrator), ct);
        if (state is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"no breach recovery with id '{id}'");
        }
        var input = state.ReadInputAs<BreachRecoveryInput>();
        var progress = DurableQueries.CustomStatus<BreachProgress>(state);
        // Once recovery is over the workflow records its report, then waits for the GDPR acknowledgement.
        var report = state.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? state.ReadOutputAs<BreachReport>() : await RecordedAsync(id, ct);
        return ApiResults.Json(StatusCodes.Status200OK, new
        {
            id,
            runtimeStatus = state.RuntimeStatus.ToString(),
            stage = progress?.Stage,
            detail = progress?.Detail,
            incidentId = progress?.IncidentId,
            target = progress?.Target,
            cleanBackup = progress?.Backup,
            approvalDeadline = progress?.ApprovalDeadline,
            gdprNotifyBy = progress?.NotifyBy,
            outcome = progress?.Outcome,
            postMortem = progress?.PostMortem,
            releaseSql = progress?.ReleaseSql,
            request = input is null ? null : new { input.Since, input.Reason, input.RequestedBy, input.Drill },
            createdAt = state.CreatedAt,
            lastUpdatedAt = state.LastUpdatedAt,
            report,
            error = state.FailureDetails?.ErrorMessage,
        });
    }

    private async Task<BreachReport?> RecordedAsync(string id, CancellationToken ct)
    {
        var name = RecordRunActivity.NameFor(BreachRecoveryOrchestrator.RecordName, id);
        if (await store.GetAsync(name, ct) is null)
        {
            return null;
        }
        await using var stream = await store.OpenReadAsync(name, ct);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        return document.RootElement.GetProperty("result").Deserialize<BreachReport>(Json.Options);
    }

    /// <summary>A breach recovery of the same kind (real or drill) still running: two at once would fight over the same database.</summary>
    private static async Task<string?> RunningAsync(DurableTaskClient client, bool drill, CancellationToken ct)
    {
        await foreach (var running in DurableQueries.Unfinished(client, InstancePrefix).WithCancellation(ct))
        {
            if (running.Name == nameof(BreachRecoveryOrchestrator) && running.ReadInputAs<BreachRecoveryInput>()?.Drill == drill
                && DurableQueries.CustomStatus<BreachProgress>(running)?.Stage != BreachStages.AwaitingGdprNotification)
            {
                return running.InstanceId;
            }
        }
        return null;
    }

    [LoggerMessage(EventId = 5520, Level = LogLevel.Warning, Message = "Breach recovery {InstanceId} requested over HTTP by {RequestedBy} for a breach since {Since:O} (drill: {Drill})")]
    private static partial void LogStarted(ILogger logger, string instanceId, string requestedBy, DateTimeOffset since, bool drill);

    [LoggerMessage(EventId = 5521, Level = LogLevel.Warning, Message = "Breach recovery {InstanceId}: restore approved over HTTP by {Approver}")]
    private static partial void LogApproved(ILogger logger, string instanceId, string approver);

    [LoggerMessage(EventId = 5522, Level = LogLevel.Warning, Message = "Breach recovery {InstanceId}: GDPR notification acknowledged over HTTP by {By}")]
    private static partial void LogAcknowledged(ILogger logger, string instanceId, string by);
}
