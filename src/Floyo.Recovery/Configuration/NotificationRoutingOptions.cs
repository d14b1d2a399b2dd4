using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>
/// Which channels each severity goes to: comma-separated <c>pagerduty</c>, <c>slack</c>, <c>email</c>, or
/// <c>none</c>. Unset, a severity goes to every configured channel of its default (critical: PagerDuty, Slack
/// and email; warning and info: Slack). A channel named explicitly must be configured. A resolve follows
/// the severity it resolves, so it reaches wherever the alert went.
/// </summary>
public sealed class NotificationRoutingOptions
{
    public const string PagerDuty = "pagerduty";
    public const string Slack = "slack";
    public const string Email = "email";
    public const string Nothing = "none";

    public static readonly IReadOnlyList<string> Known = [PagerDuty, Slack, Email];

    [ConfigurationKeyName("NOTIFY_ROUTE_CRITICAL")]
    public string? Critical { get; set; }

    [ConfigurationKeyName("NOTIFY_ROUTE_WARNING")]
    public string? Warning { get; set; }

    [ConfigurationKeyName("NOTIFY_ROUTE_INFO")]
    public string? Info { get; set; }

    public static IReadOnlyList<string> Default(Notifications.NotificationSeverity severity) =>
        severity == Notifications.NotificationSeverity.Critical ? [PagerDuty, Slack, Email] : [Slack];

    /// <summary>The setting's name and value for a severity (null: the default applies).</summary>
    public (string Key, string? Value) Setting(Notifications.NotificationSeverity severity) => severity switch
    {
        Notifications.NotificationSeverity.Critical => ("NOTIFY_ROUTE_CRITICAL", Critical),
        Notifications.NotificationSeverity.Warning => ("NOTIFY_ROUTE_WARNING", Warning),
        _ => ("NOTIFY_ROUTE_INFO", Info),
    };

    public static IReadOnlyList<string> Parse(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => c.ToLowerInvariant()).Distinct().ToList();
}

/// <summary>Refuses an unknown channel, and a channel named explicitly that has no settings (it would never deliver).</summary>
internal sealed class NotificationRoutingOptionsValidator(IOptions<NotificationOptions> webhooks, IOptions<EmailOptions> email) : IValidateOptions<NotificationRoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationRoutingOptions options)
    {
        var failures = new List<string>();
        foreach (var severity in Enum.GetValues<Notifications.NotificationSeverity>())
        {
            var (key, value) = options.Setting(severity);
            if (value is null || string.IsNullOrWhiteSpace(value))
            {
                continue;
            }
            var channels = NotificationRoutingOptions.Parse(value);
            if (channels.Contains(NotificationRoutingOptions.Nothing))
            {
                if (channels.Count > 1)
                {
                    failures.Add($"{key}: 'none' cannot be combined with a channel");
                }
                continue;
            }
            foreach (var channel in channels)
            {
                if (!NotificationRoutingOptions.Known.Contains(channel))
                {
                    failures.Add($"{key} names '{channel}': the channels are {string.Join(", ", NotificationRoutingOptions.Known)} (or none)");
                    continue;
                }
                var missing = channel switch
                {
                    NotificationRoutingOptions.PagerDuty when string.IsNullOrWhiteSpace(webhooks.Value.PagerDutyUrl) => "NOTIFY_PAGERDUTY_URL",
                    NotificationRoutingOptions.Slack when string.IsNullOrWhiteSpace(webhooks.Value.SlackWebhookUrl) => "NOTIFY_SLACK_WEBHOOK_URL",
                    NotificationRoutingOptions.Email when !email.Value.Configured => "SMTP_HOST",
                    _ => null,
                };
                if (missing is not null)
                {
                    failures.Add($"{key} routes to {channel} but {missing} is not set");
                }
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
