using Microsoft.AspNetCore.Http;

namespace Floyo.Functions.Http;

/// <summary>
/// Who is asking. With App Service Authentication on, the platform sets (and strips any forged)
/// <c>X-MS-CLIENT-PRINCIPAL-NAME</c>: that is an authenticated identity. Without it, function keys say only
/// that the caller holds a key, so the caller declares a name in <c>X-Floyo-Operator</c>; it is recorded,
/// and the two-person rule holds among honest key holders only. Turn on App Service Authentication in production.
/// </summary>
public static class RequestPrincipal
{
    public const string EasyAuthHeader = "X-MS-CLIENT-PRINCIPAL-NAME";
    public const string OperatorHeader = "X-Floyo-Operator";

    public static string? From(HttpRequest request, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(request);
        problem = null;
        var name = (string?)request.Headers[EasyAuthHeader] is { Length: > 0 } authenticated ? authenticated : (string?)request.Headers[OperatorHeader];
        name = name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            problem = $"say who is asking: sign in through App Service Authentication, or send an {OperatorHeader} header with your name";
            return null;
        }
        if (name.Length > 128 || name.Any(char.IsControl))
        {
            problem = $"the {OperatorHeader} header must be a name of at most 128 printable characters";
            return null;
        }
        return name;
    }
}
