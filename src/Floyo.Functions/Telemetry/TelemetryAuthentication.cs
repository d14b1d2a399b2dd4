using Azure.Core;
using Azure.Identity;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Extensions.Configuration;

namespace Floyo.Functions.Telemetry;

/// <summary>
/// Application Insights with local authentication off (infra/bicep) accepts Entra-authenticated telemetry only.
/// The Functions host reads APPLICATIONINSIGHTS_AUTHENTICATION_STRING ("ClientId=&lt;id&gt;;Authorization=AAD")
/// itself; the worker's own SDK does not, so the same setting gives it a managed-identity credential here.
/// Without the setting (locally, or a connection string with a key) nothing changes.
/// </summary>
public static class TelemetryAuthentication
{
    public const string Setting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Whether the setting asks for Entra authentication, and with which user-assigned identity (null: system-assigned).</summary>
    public static (bool Entra, string? ClientId) Parse(string? value)
    {
        var parts = (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        var entra = parts.TryGetValue("Authorization", out var authorization) && string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase);
        return (entra, entra && parts.TryGetValue("ClientId", out var id) && id.Length > 0 ? id : null);
    }

    public static void Apply(TelemetryConfiguration telemetry, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(configuration);
        var (entra, clientId) = Parse(configuration[Setting]);
        if (entra)
        {
            TokenCredential credential = clientId is null
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
            telemetry.SetAzureTokenCredential(credential);
        }
    }
}
