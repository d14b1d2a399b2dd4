using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>
/// Where alerts go. Critical ones page (PagerDuty Events API v2, or anything that accepts its JSON) and
/// are posted to the chat channel; warnings and information go to the chat channel (a Slack incoming
/// webhook, or anything that accepts <c>{"text": ...}</c>). Every notification is also logged and recorded
/// under <c>notifications/</c> in the backup store, so with nothing configured none is silently lost.
/// </summary>
public sealed class NotificationOptions
{
    /// <summary>PagerDuty Events API v2 endpoint (https://events.pagerduty.com/v2/enqueue); empty: no paging.</summary>
    [ConfigurationKeyName("NOTIFY_PAGERDUTY_URL")]
    public string? PagerDutyUrl { get; set; }

    /// <summary>The PagerDuty service's integration (routing) key. A secret: in Azure a Key Vault reference.</summary>
    [ConfigurationKeyName("NOTIFY_PAGERDUTY_ROUTING_KEY")]
    public string? PagerDutyRoutingKey { get; set; }

    /// <summary>Slack incoming-webhook URL. Its path is the credential: in Azure a Key Vault reference.</summary>
    [ConfigurationKeyName("NOTIFY_SLACK_WEBHOOK_URL")]
    public string? SlackWebhookUrl { get; set; }

    /// <summary>How long one post may take before the channel counts as failed.</summary>
    [ConfigurationKeyName("NOTIFY_TIMEOUT_SECONDS")]
    public double TimeoutSeconds { get; set; } = 10;

    public Uri? PagerDuty => Parse(PagerDutyUrl);

    public Uri? Slack => Parse(SlackWebhookUrl);

    private static Uri? Parse(string? value) => string.IsNullOrWhiteSpace(value) ? null : new Uri(value.Trim(), UriKind.Absolute);
}

internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var failures = new List<string>();
        foreach (var (key, value) in new[] { ("NOTIFY_PAGERDUTY_URL", options.PagerDutyUrl), ("NOTIFY_SLACK_WEBHOOK_URL", options.SlackWebhookUrl) })
        {
            // The value is never echoed: a webhook URL is a credential.
            if (!string.IsNullOrWhiteSpace(value)
                && (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
            {
                failures.Add($"{key} must be an absolute http(s) URL");
            }
        }
        if (options.TimeoutSeconds is < 1 or > 120)
        {
            failures.Add("NOTIFY_TIMEOUT_SECONDS must be between 1 and 120");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
