using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Floyo.Functions.Http;

/// <summary>JSON responses in the engine's one JSON shape (camelCase, enums as words), errors as <c>{ "error": "..." }</c>.</summary>
public static class ApiResults
{
    public static ContentResult Json(int status, object body) => new()
    {
        StatusCode = status,
        ContentType = "application/json; charset=utf-8",
        Content = JsonSerializer.Serialize(body, body.GetType(), Recovery.Backups.Json.Options),
    };

    public static ContentResult Error(int status, string message) => Json(status, new { error = message.ReplaceLineEndings(" ") });

    public static ContentResult BadRequest(string message) => Error(StatusCodes.Status400BadRequest, message);

    /// <summary>202 for a workflow just started: <c>Location</c> is its status URL, polled every 10 s.</summary>
    public static ContentResult Accepted(HttpRequest request, string statusUrl, object body)
    {
        request.HttpContext.Response.Headers.Location = statusUrl;
        request.HttpContext.Response.Headers.RetryAfter = "10";
        return Json(StatusCodes.Status202Accepted, body);
    }

    /// <summary>Absolute URL of an API route on the host that served <paramref name="request"/>.</summary>
    public static string Url(HttpRequest request, string path) => $"{request.Scheme}://{request.Host}{request.PathBase}/api/{path}";
}
