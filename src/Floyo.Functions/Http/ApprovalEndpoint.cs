using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;

namespace Floyo.Functions.Http;

/// <summary>What differs between the approve endpoints of restores and breach recoveries.</summary>
/// <param name="Workflow">As a person says it, in errors ("restore", "breach recovery").</param>
/// <param name="Resource">The route's collection ("restores", "breaches").</param>
/// <param name="SelfApproval">Why the requester is refused, after their name.</param>
internal sealed record ApprovalRoute(string Workflow, string Resource, string InstancePrefix, string Orchestrator, string AwaitingStage, string SelfApproval);

/// <summary>
/// The HTTP side of the approval gate: the caller is authenticated, the instance exists and waits at its gate,
/// and the approver is not the requester (the orchestration checks that again), then the approval event is raised.
/// </summary>
internal static class ApprovalEndpoint
{
    public static async Task<IActionResult> ApproveAsync<TProgress, TInput>(
        ApprovalRoute route, HttpRequest request, string id, DurableTaskClient client, RequestPrincipal principals,
        Func<TProgress, string?> stageOf, Func<TInput, string?> requesterOf, Action<string> approved, CancellationToken ct)
        where TProgress : class
        where TInput : class
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var (approver, comment, problem) = await ApiRequests.ReadCommentAsync(principals, request, approving: true, ct);
        if (problem is not null)
        {
            return problem;
        }
        var state = await DurableQueries.FindAsync(client, id, route.InstancePrefix, route.Orchestrator, ct);
        if (state is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"no {route.Workflow} with id '{id}'");
        }
        if (state.IsCompleted)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"{route.Workflow} {id} has already finished ({state.RuntimeStatus})");
        }
        var stage = DurableQueries.CustomStatus<TProgress>(state) is { } progress ? stageOf(progress) : null;
        if (stage != route.AwaitingStage)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"{route.Workflow} {id} is not waiting for approval (stage: {stage ?? "starting"}); try again when it is");
        }
        var requester = state.ReadInputAs<TInput>() is { } input ? requesterOf(input) : null;
        if (Principals.Same(approver, requester))
        {
            return ApiResults.Error(StatusCodes.Status403Forbidden, $"{approver} {route.SelfApproval}: someone else must");
        }
        await client.RaiseEventAsync(id, ApprovalGate.EventName, new Approval(approver!, comment), ct);
        approved(approver!);
        return ApiResults.Json(StatusCodes.Status202Accepted, new { id, approvedBy = approver, statusQueryGetUri = ApiResults.Url(request, $"{route.Resource}/{id}") });
    }
}
