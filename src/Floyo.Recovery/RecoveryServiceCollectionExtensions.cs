using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery;

public static class RecoveryServiceCollectionExtensions
{
    /// <summary>The engine, as both the Functions app and floyo-dr use it. Settings come from the root configuration (environment names).</summary>
    public static IServiceCollection AddFloyoRecovery(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<BackupOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddSingleton<IValidateOptions<BackupOptions>, BackupOptionsValidator>();
        services.AddSingleton(TimeProvider.System);

        services.AddSingleton<IBackupStore>(sp => CreateStore(sp.GetRequiredService<IOptions<BackupOptions>>().Value));
        services.AddSingleton<PgTools>();
        services.AddSingleton<BackupCatalog>();
        services.AddSingleton<FullBackupRunner>();
        services.AddSingleton<BackupFetcher>();
        services.AddSingleton<DatabaseRestorer>();
        services.AddSingleton<RestoreRunner>();
        services.AddSingleton<BackupVerifier>();
        services.AddSingleton<RetentionPlanner>();
        services.AddFloyoSecrets();
        return services;
    }

    private static IBackupStore CreateStore(BackupOptions options) => options.Store switch
    {
        "filesystem" => new FilesystemStore(options.Directory),
        _ => throw new RecoveryException($"BACKUP_STORE '{options.Store}' is not available in this build"),
    };
}
