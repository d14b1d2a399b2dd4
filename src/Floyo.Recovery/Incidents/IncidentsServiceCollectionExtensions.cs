using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Incidents;

public static class IncidentsServiceCollectionExtensions
{
    public static IServiceCollection AddFloyoIncidents(this IServiceCollection services)
    {
        services.AddOptions<IncidentOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IncidentOptions>, IncidentOptionsValidator>());
        services.TryAddSingleton<IncidentBook>();
        services.TryAddSingleton<IncidentCommunicator>();
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<StatusPagePoster>(sp,
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan }));
        return services;
    }
}
