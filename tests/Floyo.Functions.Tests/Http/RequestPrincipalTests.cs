using System.Text;
using System.Text.Json;
using Floyo.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Tests.Http;

/// <summary>The two-person rule needs two authenticated people: who is asking, by App Service Authentication's headers or a declared name.</summary>
[Trait("Tier", "Fast")]
public sealed class RequestPrincipalTests
{
    private static RequestPrincipal Principals(bool platform, bool declared = false, string? role = null) =>
        new(Options.Create(new CallerOptions { PlatformAuthentication = platform, AllowDeclaredOperator = declared, ApproverRole = role ?? "Floyo.Approver" }));

    /// <summary>X-MS-CLIENT-PRINCIPAL as App Service sets it: Base64 JSON with auth_typ, name_typ, role_typ and claims.</summary>
    internal static string PlatformHeader(string name, params string[] roles) => Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        auth_typ = "aad",
        name_typ = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        role_typ = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        claims = new[] { new { typ = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", val = name }, new { typ = "aud", val = "api://floyo-dr" } }
            .Concat(roles.Select(r => new { typ = "roles", val = r })),
    })));

    private static HttpRequest Request(string? declared = null, string? platformName = null, string? principal = null)
    {
        var request = new DefaultHttpContext().Request;
        if (declared is not null)
        {
            request.Headers[RequestPrincipal.OperatorHeader] = declared;
        }
        if (platformName is not null)
        {
            request.Headers["X-MS-CLIENT-PRINCIPAL-NAME"] = platformName;
        }
        if (principal is not null)
        {
            request.Headers[RequestPrincipal.PlatformPrincipalHeader] = principal;
        }
        return request;
    }

    private static (int Status, string Error) Refusal((string? Name, Microsoft.AspNetCore.Mvc.IActionResult? Problem) result)
    {
        Assert.Null(result.Name);
        var (status, body) = HttpFunctionTests.Read(result.Problem!);
        return (status, body.GetProperty("error").GetString()!);
    }

    [Fact]
    public void Without_platform_authentication_a_declared_name_is_refused_unless_a_setting_allows_it()
    {
        var (status, error) = Refusal(Principals(platform: false).Identify(Request(declared: "alice")));
        Assert.Equal(401, status);
        Assert.Contains("App Service Authentication", error, StringComparison.Ordinal);
        Assert.Contains("ALLOW_DECLARED_OPERATOR=true", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);

        Assert.Equal(("alice", null), Principals(platform: false, declared: true).Identify(Request(declared: " alice ")));
        Assert.Equal(400, Refusal(Principals(platform: false, declared: true).Identify(Request())).Status);
    }

    [Fact]
    public void Without_platform_authentication_the_platform_headers_are_never_trusted()
    {
        var forged = Request(declared: "alice", platformName: "bob", principal: PlatformHeader("bob", "Floyo.Approver"));
        Assert.Equal(("alice", null), Principals(platform: false, declared: true).Identify(forged, approving: true));
        Assert.Equal(401, Refusal(Principals(platform: false).Identify(forged, approving: true)).Status);
    }

    [Fact]
    public void With_platform_authentication_identity_comes_only_from_the_platform_and_approving_needs_the_role()
    {
        var principals = Principals(platform: true, declared: true);
        // No principal from the platform: a declared name does not count, even where declaring is allowed.
        var (status, error) = Refusal(principals.Identify(Request(declared: "alice", platformName: "alice")));
        Assert.Equal(401, status);
        Assert.Contains("sign in through App Service Authentication", error, StringComparison.Ordinal);
        Assert.Equal(401, Refusal(principals.Identify(Request(principal: "not base64 {"))).Status);

        Assert.Equal(("alice@example.com", null), principals.Identify(Request(declared: "bob", principal: PlatformHeader("alice@example.com"))));
        var (forbidden, why) = Refusal(principals.Identify(Request(principal: PlatformHeader("bob@example.com", "Reader")), approving: true));
        Assert.Equal(403, forbidden);
        Assert.Contains("'Floyo.Approver'", why, StringComparison.Ordinal);
        Assert.Equal(("bob@example.com", null), principals.Identify(Request(principal: PlatformHeader("bob@example.com", "Floyo.Approver")), approving: true));
        Assert.Equal(("carol@example.com", null), Principals(platform: true, role: "DR.Approve").Identify(Request(principal: PlatformHeader("carol@example.com", "DR.Approve")), approving: true));
    }
}
