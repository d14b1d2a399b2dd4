using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

public static class ChecksServiceCollectionExtensions
{
    /// <summary>The health checks, in the order they run and print.</summary>
    public static IServiceCollection AddFloyoChecks(this IServiceCollection services)
    {
        services.AddOptions<CheckOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckOptions>, CheckOptionsValidator>());
        services.TryAddSingleton<AppHistory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, BackupAgeCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, RecoveryPointCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, WalCopiesCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, ReplicationLagCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, ReplicationSlotsCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, DatabaseSizeCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, BackupDirSpaceCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICheck, ErrorRateCheck>());
        services.TryAddSingleton<CheckRunner>();
        services.TryAddSingleton<CheckAlerter>();
        return services;
    }
}
