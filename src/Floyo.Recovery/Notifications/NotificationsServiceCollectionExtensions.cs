using Floyo.Recovery.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Notifications;

public static class NotificationsServiceCollectionExtensions
{
    public static IServiceCollection AddFloyoNotifications(this IServiceCollection services)
    {
        services.AddOptions<NotificationOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>());
        services.AddOptions<EmailOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>());
        services.AddOptions<NotificationRoutingOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationRoutingOptions>, NotificationRoutingOptionsValidator>());
        services.TryAddSingleton<SeverityRouting>();
        services.TryAddSingleton<EmailSender>();
        // One client for the process: webhooks are few and rare; the per-post timeout is NOTIFY_TIMEOUT_SECONDS.
        services.TryAddSingleton<INotifier>(sp => ActivatorUtilities.CreateInstance<WebhookNotifier>(sp,
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan }));
        services.TryAddSingleton<IncidentAlerts>();
        return services;
    }
}
