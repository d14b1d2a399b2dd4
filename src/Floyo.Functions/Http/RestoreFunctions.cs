using System.Text.Json;
using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
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
/// Restores over HTTP: start one (202 with status and approval URLs), approve it as someone other than
/// the requester, follow it. Every request is checked before anything starts; a bad one gets 400 and
/// starts nothing. Function keys at least: never anonymous.
/// </summary>
public sealed partial class RestoreFunctions(
    BackupCatalog catalog,
    IOptions<DatabaseOptions> database,
    IOptions<WorkflowOptions> workflow,
    TimeProvider clock,
    RequestPrincipal principals,
    ILogger<RestoreFunctions> logger)
{
    public const string InstancePrefix = "restore-";

    private static readonly string[] StartFields = ["backup", "targetDatabase", "dropExisting", "reason"];

    [Function("StartRestore")]
    public async Task<IActionResult> StartAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "restores")] HttpRequest request,
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
        var backup = body.String("backup", required: true, out var e1);
        var target = body.String("targetDatabase", required: true, out var e2);
        var reason = body.String("reason", required: true, out var e3);
        var drop = body.Boolean("dropExisting", out var e4) ?? false;
        if ((e1 ?? e2 ?? e3 ?? e4) is { } fieldError)
        {
            return ApiResults.BadRequest(fieldError);
        }
        if (ApiRequests.ReasonProblem(reason, "why") is { } reasonProblem)
        {
            return ApiResults.BadRequest(reasonProblem);
        }
        try
        {
            RestoreRunner.CheckTargetName(target!);
            // The backup must exist and be complete now; the orchestration checks it again, with its checksum.
            var entry = await catalog.FindAsync(backup!, ct);
            if (!entry.IsValid)
            {
                return ApiResults.BadRequest($"{entry.Name} is not valid ({string.Join("; ", entry.Problems)}); it will not be restored");
            }
        }
        catch (RecoveryException problem)
        {
            return ApiResults.BadRequest(problem.Message);
        }

        if (await RunningRestoreIntoAsync(client, target!, ct) is { } running)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"restore {running} into '{target}' is still running; wait for it to finish");
        }
        var settings = workflow.Value;
        var production = IsProduction(target!);
        var id = Recovery.Workflows.InstanceIds.New(InstancePrefix, clock.GetUtcNow());
        var input = new RestoreWorkflowInput(backup!, target, drop, reason!.Trim(), requester, RestoreSource.Http, settings.ApprovalTimeout);
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator), input, new StartOrchestrationOptions(id), ct);
        LogStarted(logger, id, backup!, target!, requester);

        var status = ApiResults.Url(request, $"restores/{id}");
        return ApiResults.Accepted(request, status, new
        {
            id,
            backup,
            targetDatabase = target,
            dropExisting = drop,
            requestedBy = requester,
            approvalRequired = settings.ApprovalRequired || production,
            approvalTimeout = settings.ApprovalTimeout,
            statusQueryGetUri = status,
            // Only our own URLs: Durable's management payload carries the extension's system key, which would let
            // any caller raise the approval event under any name, terminate the run or purge its history.
            approvePostUri = ApiResults.Url(request, $"restores/{id}/approve"),
        });
    }

    [Function("ApproveRestore")]
    public Task<IActionResult> ApproveAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "restores/{id}/approve")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        return ApprovalEndpoint.ApproveAsync<RestoreProgress, RestoreWorkflowInput>(
            new ApprovalRoute("restore", "restores", InstancePrefix, nameof(RestoreOrchestrator), RestoreStages.AwaitingApproval,
                "requested this restore and cannot approve it"),
            request, id, client, principals, p => p.Stage, i => i.RequestedBy, approver => LogApproved(logger, id, approver), ct);
    }

    [Function("GetRestore")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "restores/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        var state = await DurableQueries.FindAsync(client, id, InstancePrefix, nameof(RestoreOrchestrator), ct);
        if (state is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"no restore with id '{id}'");
        }
        var input = state.ReadInputAs<RestoreWorkflowInput>();
        var progress = DurableQueries.CustomStatus<RestoreProgress>(state);
        return ApiResults.Json(StatusCodes.Status200OK, new
        {
            id,
            runtimeStatus = state.RuntimeStatus.ToString(),
            stage = progress?.Stage,
            detail = progress?.Detail,
            approvalDeadline = progress?.ApprovalDeadline,
            plan = progress?.Plan,
            request = input is null ? null : new { input.Backup, input.TargetDatabase, input.DropExisting, input.Reason, input.RequestedBy },
            createdAt = state.CreatedAt,
            lastUpdatedAt = state.LastUpdatedAt,
            report = state.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? state.ReadOutputAs<RestoreReport>() : null,
            error = state.FailureDetails?.ErrorMessage,
        });
    }

    private async Task<string?> RunningRestoreIntoAsync(DurableTaskClient client, string target, CancellationToken ct)
    {
        await foreach (var running in DurableQueries.Unfinished(client, InstancePrefix).WithCancellation(ct))
        {
            var input = running.ReadInputAs<RestoreWorkflowInput>();
            if (input is not null && string.Equals(input.TargetDatabase ?? ProductionDatabase(), target, StringComparison.Ordinal))
            {
                return running.InstanceId;
            }
        }
        return null;
    }

    private string? ProductionDatabase() =>
        database.Value.DatabaseUrl is { Length: > 0 } url && DatabaseUrl.TryParse(url, out var parsed, out _) ? parsed.Database : null;

    private bool IsProduction(string target) => string.Equals(target, ProductionDatabase(), StringComparison.Ordinal);

    [LoggerMessage(EventId = 5510, Level = LogLevel.Warning, Message = "Restore {InstanceId} of {Backup} into {Target} requested over HTTP by {RequestedBy}")]
    private static partial void LogStarted(ILogger logger, string instanceId, string backup, string target, string requestedBy);

    [LoggerMessage(EventId = 5511, Level = LogLevel.Warning, Message = "Restore {InstanceId} approved over HTTP by {Approver}")]
    private static partial void LogApproved(ILogger logger, string instanceId, string approver);
}
