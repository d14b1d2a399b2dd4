using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Tests.Support;

/// <summary>The engine as the front ends build it, configured from the same setting names, for in-process tests.</summary>
public static class Engine
{
    public static ServiceProvider Create(IDictionary<string, string?> settings, TimeProvider? clock = null, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddFloyoRecovery();
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        configure?.Invoke(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }
}
