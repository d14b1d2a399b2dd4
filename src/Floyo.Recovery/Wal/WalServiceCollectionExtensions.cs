using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

public static class WalServiceCollectionExtensions
{
    /// <summary>The WAL archive, base backups, their continuity check and point-in-time recovery.</summary>
    public static IServiceCollection AddWalArchiving(this IServiceCollection services)
    {
        services.AddOptions<WalOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<WalOptions>, WalOptionsValidator>();
        services.AddSingleton<WalArchive>();
        services.AddSingleton<WalPrefetcher>();
        services.AddSingleton<BaseBackupCatalog>();
        services.AddSingleton<BaseBackupRunner>();
        services.AddSingleton<WalContinuity>();
        services.AddSingleton<PitrPlanner>();
        services.AddSingleton<PitrRestorer>();
        services.AddSingleton<PitrIntoRunner>();
        services.AddSingleton<IncrementalBackupRunner>();
        services.AddSingleton<RecoveryPointFinder>();
        services.AddSingleton<WalRetention>();
        services.AddSingleton<WalReceiver>();
        services.AddSingleton<ArchiveHealthProbe>();
        services.AddSingleton<WalCopier>();
        services.AddSingleton<WalCopyLagProbe>();
        services.AddSingleton<WalCopyAlerter>();
        return services;
    }
}
