using Floyo.Recovery;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Floyo.Functions.Http;

/// <summary>
/// The communication plan over HTTP: open an incident (its communication orchestration starts and runs until
/// the incident is resolved), report a change or the resolution (written to the incident, then raised into the
/// orchestration), read it. Same callers as the other endpoints (RequestPrincipal); function keys at least.
/// </summary>
public sealed class IncidentFunctions(IncidentBook book, RequestPrincipal principals)
{
    private static readonly string[] OpenFields = ["title", "severity", "stage", "projectedRto", "summary"];
    private static readonly string[] UpdateFields = ["stage", "message", "projectedRto"];
    private static readonly string[] ResolveFields = ["message"];

    [Function("OpenIncident")]
    public async Task<IActionResult> OpenAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "incidents")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var (call, refused) = await ApiRequests.ReadAsync(principals, request, OpenFields, ct);
        if (call is null)
        {
            return refused!;
        }
        var (who, body) = call;
        var title = body.String("title", required: true, out var e1);
        var severity = body.String("severity", required: false, out var e2);
        var stage = body.String("stage", required: false, out var e3);
        var projected = body.String("projectedRto", required: false, out var e4);
        var summary = body.String("summary", required: false, out var e5);
        if ((e1 ?? e2 ?? e3 ?? e4 ?? e5) is { } fieldError)
        {
            return ApiResults.BadRequest(fieldError);
        }
        try
        {
            var level = severity is null ? NotificationSeverity.Critical
                : Enum.TryParse<NotificationSeverity>(severity, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed
                : throw new UsageException($"field 'severity' must be critical, warning or info, not '{severity}'");
            var incident = await book.OpenAsync(new IncidentOpening(title!, level, "POST /api/incidents", who, stage?.Trim() ?? "investigating",
                IncidentBook.ParseDuration(projected, "field 'projectedRto'"), summary), ct);
            await IncidentCommunicationStarter.EnsureRunningAsync(client, new IncidentCommunicationStart(incident.Id), ct);
            var status = ApiResults.Url(request, $"incidents/{incident.Id}");
            return ApiResults.Accepted(request, status, new
            {
                id = incident.Id,
                instanceId = IncidentCommunicationOrchestrator.InstanceIdFor(incident.Id),
                openedBy = who,
                statusQueryGetUri = status,
                updatePostUri = ApiResults.Url(request, $"incidents/{incident.Id}/update"),
                resolvePostUri = ApiResults.Url(request, $"incidents/{incident.Id}/resolve"),
            });
        }
        catch (RecoveryException e)
        {
            return Problem(e);
        }
    }

    [Function("UpdateIncident")]
    public Task<IActionResult> UpdateAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "incidents/{id}/update")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct) => ChangeAsync(request, id, client, resolves: false, ct);

    [Function("ResolveIncident")]
    public Task<IActionResult> ResolveAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "incidents/{id}/resolve")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct) => ChangeAsync(request, id, client, resolves: true, ct);

    [Function("GetIncident")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "incidents/{id}")] HttpRequest request,
        string id,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (who, refused) = principals.Identify(request);
        if (who is null)
        {
            return refused!;
        }
        try
        {
            return ApiResults.Json(StatusCodes.Status200OK, await book.RequireAsync(id, ct));
        }
        catch (RecoveryException e)
        {
            return Problem(e);
        }
    }

    private async Task<IActionResult> ChangeAsync(HttpRequest request, string id, DurableTaskClient client, bool resolves, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var (call, refused) = await ApiRequests.ReadAsync(principals, request, resolves ? ResolveFields : UpdateFields, ct);
        if (call is null)
        {
            return refused!;
        }
        var (who, body) = call;
        var message = body.String("message", required: resolves, out var e1);
        string? stage = null;
        string? projected = null;
        string? e2 = null;
        string? e3 = null;
        if (!resolves)
        {
            stage = body.String("stage", required: false, out e2);
            projected = body.String("projectedRto", required: false, out e3);
        }
        if ((e1 ?? e2 ?? e3) is { } fieldError)
        {
            return ApiResults.BadRequest(fieldError);
        }
        try
        {
            var (incident, change) = await book.ChangeAsync(id, who, stage, message, IncidentBook.ParseDuration(projected, "field 'projectedRto'"), resolves, ct);
            // Running: the change wakes it. Not running (its host lost it, or floyo-dr opened the incident): it starts and catches up.
            await IncidentCommunicationStarter.EnsureRunningAsync(client, new IncidentCommunicationStart(incident.Id, change), ct);
            return ApiResults.Json(StatusCodes.Status200OK, incident);
        }
        catch (RecoveryException e)
        {
            return Problem(e);
        }
    }

    private static ContentResult Problem(RecoveryException e) => e.Kind switch
    {
        ErrorKind.NotFound => ApiResults.Error(StatusCodes.Status404NotFound, e.Message),
        ErrorKind.RefusedForSafety => ApiResults.Error(StatusCodes.Status409Conflict, e.Message),
        ErrorKind.Usage => ApiResults.BadRequest(e.Message),
        _ => ApiResults.Error(StatusCodes.Status500InternalServerError, e.Message),
    };
}
