using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Http;

/// <summary>How the HTTP API learns who is asking.</summary>
public sealed class CallerOptions
{
    /// <summary>Set to True by App Service when its Authentication is on (authsettingsV2); only then are its headers the platform's.</summary>
    [ConfigurationKeyName("WEBSITE_AUTH_ENABLED")]
    public bool PlatformAuthentication { get; set; }

    /// <summary>Without platform authentication, accept the caller's own X-Floyo-Operator name (local use: the name is not proven).</summary>
    [ConfigurationKeyName("ALLOW_DECLARED_OPERATOR")]
    public bool AllowDeclaredOperator { get; set; }

    /// <summary>The Entra app role a caller needs to approve a restore (roles claims of X-MS-CLIENT-PRINCIPAL).</summary>
    [ConfigurationKeyName("APPROVER_ROLE")]
    public string ApproverRole { get; set; } = "Floyo.Approver";
}

/// <summary>
/// Who is asking. With App Service Authentication on, identity and roles come only from X-MS-CLIENT-PRINCIPAL,
/// which the platform sets (and strips from incoming requests), and approving needs <see cref="CallerOptions.ApproverRole"/>.
/// Without it, those headers could come from anyone and are never read; the caller's declared
/// <c>X-Floyo-Operator</c> is accepted only when ALLOW_DECLARED_OPERATOR says so (local use), otherwise the answer is 401.
/// </summary>
public sealed class RequestPrincipal(IOptions<CallerOptions> options)
{
    public const string PlatformPrincipalHeader = "X-MS-CLIENT-PRINCIPAL";
    public const string OperatorHeader = "X-Floyo-Operator";

    /// <summary>The caller's name, or the response to give instead (401 no identity, 403 not an approver, 400 a bad name).</summary>
    public (string? Name, IActionResult? Problem) Identify(HttpRequest request, bool approving = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = options.Value;
        if (settings.PlatformAuthentication)
        {
            if (PlatformPrincipal.Parse(request.Headers[PlatformPrincipalHeader]) is not { } principal)
            {
                return (null, ApiResults.Error(StatusCodes.Status401Unauthorized, "sign in through App Service Authentication: the request carries no authenticated identity"));
            }
            if (NameProblem(principal.Name, "the signed-in identity's name") is { } bad)
            {
                return (null, bad);
            }
            if (approving && !principal.Roles.Contains(settings.ApproverRole, StringComparer.Ordinal))
            {
                return (null, ApiResults.Error(StatusCodes.Status403Forbidden, $"approving needs the app role '{settings.ApproverRole}', which {principal.Name} does not have"));
            }
            return (principal.Name.Trim(), null);
        }
        if (!settings.AllowDeclaredOperator)
        {
            return (null, ApiResults.Error(StatusCodes.Status401Unauthorized,
                "no authenticated identity: turn on App Service Authentication (a declared X-Floyo-Operator is accepted only with ALLOW_DECLARED_OPERATOR=true, for local use)"));
        }
        var name = ((string?)request.Headers[OperatorHeader])?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return (null, ApiResults.BadRequest($"say who is asking: send an {OperatorHeader} header with your name"));
        }
        var problem = NameProblem(name, $"the {OperatorHeader} header");
        return (problem is null ? name : null, problem);
    }

    private static ContentResult? NameProblem(string name, string what) =>
        name.Trim().Length is 0 or > 128 || name.Any(char.IsControl)
            ? ApiResults.BadRequest($"{what} must be a name of 1 to 128 printable characters")
            : null;
}

/// <summary>The parts of App Service's X-MS-CLIENT-PRINCIPAL (Base64 JSON: auth_typ, name_typ, role_typ, claims of typ/val) the API uses.</summary>
public sealed record PlatformPrincipal(string Name, IReadOnlyList<string> Roles)
{
    private const string DefaultRoleType = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
    private const string DefaultNameType = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";

    /// <summary>Null when the header is missing or not a principal with a name.</summary>
    public static PlatformPrincipal? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > 64 * 1024)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(Convert.FromBase64String(header.Trim()));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("claims", out var claims) || claims.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            var nameType = Text(root, "name_typ") ?? DefaultNameType;
            var roleType = Text(root, "role_typ") ?? DefaultRoleType;
            string? name = null;
            string? fallback = null;
            var roles = new List<string>();
            foreach (var claim in claims.EnumerateArray())
            {
                if (claim.ValueKind != JsonValueKind.Object || Text(claim, "typ") is not { } type || Text(claim, "val") is not { } value)
                {
                    continue;
                }
                if (type == nameType)
                {
                    name ??= value;
                }
                else if (type is "preferred_username" or "name")
                {
                    fallback ??= value;
                }
                // Entra puts app roles in "roles"; the platform maps them to role_typ.
                if (type == roleType || type == "roles")
                {
                    roles.Add(value);
                }
            }
            return (name ?? fallback) is { } who ? new PlatformPrincipal(who, roles) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or DecoderFallbackException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
