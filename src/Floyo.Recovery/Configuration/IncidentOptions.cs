using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>
/// The plan's communication rules as settings: a stakeholder update within the first hour and then hourly until
/// resolved; past the customer threshold (projected or actual RTO) a status-page update and the customer email;
/// past the public-report threshold a drafted public incident report. Intervals are settings so a test (or a
/// rehearsal) can run the whole plan in seconds.
/// </summary>
public sealed class IncidentOptions
{
    /// <summary>When the first stakeholder update goes out after the incident opens (the plan: within 1 hour).</summary>
    [ConfigurationKeyName("INCIDENT_FIRST_UPDATE_AFTER")]
    public TimeSpan FirstUpdateAfter { get; set; } = TimeSpan.FromMinutes(45);

    /// <summary>Then one stakeholder update every interval until resolved (the plan: hourly).</summary>
    [ConfigurationKeyName("INCIDENT_UPDATE_INTERVAL")]
    public TimeSpan UpdateInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Projected or actual RTO beyond this: status-page update and customer email (the plan: 4 hours).</summary>
    [ConfigurationKeyName("INCIDENT_CUSTOMER_THRESHOLD")]
    public TimeSpan CustomerThreshold { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Projected or actual RTO beyond this: the public incident report is drafted (the plan: 24 hours).</summary>
    [ConfigurationKeyName("INCIDENT_PUBLIC_REPORT_THRESHOLD")]
    public TimeSpan PublicReportThreshold { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The status page's incident endpoint, posted JSON <c>{"incident":{"name","status","body"}}</c>: Atlassian
    /// Statuspage's <c>https://api.statuspage.io/v1/pages/&lt;page_id&gt;/incidents</c>, or any webhook. Empty: no status page.
    /// </summary>
    [ConfigurationKeyName("INCIDENT_STATUSPAGE_URL")]
    public string? StatusPageUrl { get; set; }

    /// <summary>The Authorization header for it (Statuspage: <c>OAuth &lt;api key&gt;</c>). A secret: never logged.</summary>
    [ConfigurationKeyName("INCIDENT_STATUSPAGE_AUTHORIZATION")]
    public string? StatusPageAuthorization { get; set; }

    /// <summary>
    /// Whether a failed DR drill opens an incident: <c>true</c> or <c>false</c>. Unset: the host decides. The
    /// Functions app's drills (its timers and HTTP) are production's, so a failure there means recovery as it
    /// stands would fail: they open one. A drill typed at floyo-dr is someone rehearsing by hand: it does not.
    /// </summary>
    [ConfigurationKeyName("INCIDENT_ON_DRILL_FAILURE")]
    public string? DrillFailureOpensIncident { get; set; }

    /// <summary>The setting, or the host's default when it is unset (validated at start-up).</summary>
    public bool DrillFailureOpens(bool hostDefault) =>
        string.IsNullOrWhiteSpace(DrillFailureOpensIncident) ? hostDefault : bool.Parse(DrillFailureOpensIncident.Trim());

    public Uri? StatusPage => string.IsNullOrWhiteSpace(StatusPageUrl) ? null : new Uri(StatusPageUrl.Trim(), UriKind.Absolute);
}

internal sealed class IncidentOptionsValidator : IValidateOptions<IncidentOptions>
{
    public ValidateOptionsResult Validate(string? name, IncidentOptions options)
    {
        var failures = new List<string>();
        foreach (var (key, value) in new[]
        {
            ("INCIDENT_FIRST_UPDATE_AFTER", options.FirstUpdateAfter), ("INCIDENT_UPDATE_INTERVAL", options.UpdateInterval),
            ("INCIDENT_CUSTOMER_THRESHOLD", options.CustomerThreshold), ("INCIDENT_PUBLIC_REPORT_THRESHOLD", options.PublicReportThreshold),
        })
        {
            if (value < TimeSpan.FromSeconds(1) || value > TimeSpan.FromDays(30))
            {
                failures.Add($"{key} must be between 00:00:01 and 30.00:00:00");
            }
        }
        if (!string.IsNullOrWhiteSpace(options.DrillFailureOpensIncident) && !bool.TryParse(options.DrillFailureOpensIncident.Trim(), out _))
        {
            failures.Add($"INCIDENT_ON_DRILL_FAILURE must be true or false (or unset: true in the Functions app, false in floyo-dr), not '{options.DrillFailureOpensIncident}'");
        }
        if (options.PublicReportThreshold < options.CustomerThreshold)
        {
            failures.Add("INCIDENT_PUBLIC_REPORT_THRESHOLD must not be shorter than INCIDENT_CUSTOMER_THRESHOLD");
        }
        if (!string.IsNullOrWhiteSpace(options.StatusPageUrl)
            && (!Uri.TryCreate(options.StatusPageUrl.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
        {
            failures.Add("INCIDENT_STATUSPAGE_URL must be an absolute http(s) URL");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
