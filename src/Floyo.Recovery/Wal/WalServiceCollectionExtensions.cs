using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Wal;

public static class WalServiceCollectionExtensions
{
    /// <summary>The WAL archive, base backups, their continuity check and point-in-time recovery.</summary>
    public static IServiceCollection AddWalArchiving(this IServiceCollection services)
    {
        services.AddOptions<WalOptions>().BindConfiguration("")
            .Validate(o => o.PrefetchSegments is >= 0 and <= 256, "PITR_PREFETCH_SEGMENTS must be between 0 and 256")
            .Validate(o => o.CopyMaxLagMinutes >= 1, "WAL_COPY_MAX_LAG_MINUTES must be at least 1")
            .ValidateOnStart();
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
        return services;
    }
}
