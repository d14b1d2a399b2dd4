using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Floyo.Functions.Http;

/// <summary>A request that passed the checks every endpoint makes: who asks, and a body with only the allowed fields.</summary>
internal sealed record CallerRequest(string Who, StrictJson Body);

/// <summary>The request checks the restore, breach and incident APIs share: who asks, the body, a free-text reason, an optional comment.</summary>
internal static class ApiRequests
{
    private static readonly string[] CommentFields = ["comment"];

    /// <summary>The caller and the JSON body (only <paramref name="fields"/>); Problem is the response to return otherwise.</summary>
    public static async Task<(CallerRequest? Call, IActionResult? Problem)> ReadAsync(
        RequestPrincipal principals, HttpRequest request, IReadOnlyCollection<string> fields, CancellationToken ct, bool approving = false, bool emptyAllowed = false)
    {
        ArgumentNullException.ThrowIfNull(principals);
        var (principal, refused) = principals.Identify(request, approving);
        if (principal is null)
        {
            return (null, refused);
        }
        var (body, error) = await StrictJson.ReadAsync(request, fields, emptyAllowed, ct);
        return body is null ? (null, ApiResults.BadRequest(error!)) : (new CallerRequest(principal, body), null);
    }

    /// <summary>The caller and an optional comment of at most 500 characters; Problem is the response to return otherwise.</summary>
    /// <param name="approving">The caller approves a restore: with App Service Authentication on, that needs the approver role.</param>
    public static async Task<(string? Who, string? Comment, IActionResult? Problem)> ReadCommentAsync(RequestPrincipal principals, HttpRequest request, bool approving, CancellationToken ct)
    {
        var (call, problem) = await ReadAsync(principals, request, CommentFields, ct, approving, emptyAllowed: true);
        if (call is null)
        {
            return (null, null, problem);
        }
        var (principal, body) = call;
        var comment = body.String("comment", required: false, out var commentError);
        if (commentError is not null || comment is { Length: > 500 })
        {
            return (null, null, ApiResults.BadRequest(commentError ?? "field 'comment' is longer than 500 characters"));
        }
        return (principal, comment, null);
    }

    /// <summary>Null when <paramref name="reason"/> is 1 to 500 printable characters, else the message for a 400.</summary>
    public static string? ReasonProblem(string? reason, string saying) =>
        string.IsNullOrWhiteSpace(reason) || reason.Length > 500 || reason.Any(char.IsControl)
            ? $"field 'reason' must say {saying}, in 1 to 500 printable characters"
            : null;
}
