using Floyo.Recovery.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Notifications;

/// <summary>
/// The channels one notification goes to: its severity's route (NOTIFY_ROUTE_*, or the default) narrowed to the
/// channels that are configured, plus email whenever it is addressed to stakeholders or customers.
/// </summary>
public sealed class SeverityRouting(IOptions<NotificationRoutingOptions> routes, IOptions<NotificationOptions> webhooks, IOptions<EmailOptions> email)
{
    public IReadOnlyList<string> ChannelsFor(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var (_, value) = routes.Value.Setting(notification.Severity);
        var wanted = string.IsNullOrWhiteSpace(value) ? NotificationRoutingOptions.Default(notification.Severity) : NotificationRoutingOptions.Parse(value);
        var channels = wanted.Where(c => c != NotificationRoutingOptions.Nothing).ToList();
        if (notification.Audience != NotificationAudience.Team && !channels.Contains(NotificationRoutingOptions.Email))
        {
            channels.Add(NotificationRoutingOptions.Email);
        }
        // A channel without settings is "not configured", never a failure (an explicit route to one is refused at start-up).
        return channels.Where(Configured).ToList();
    }

    private bool Configured(string channel) => channel switch
    {
        NotificationRoutingOptions.PagerDuty => webhooks.Value.PagerDuty is not null,
        NotificationRoutingOptions.Slack => webhooks.Value.Slack is not null,
        NotificationRoutingOptions.Email => email.Value.Configured,
        _ => false,
    };
}
