using Floyo.Recovery.Storage.Blob;
using Floyo.Recovery.Storage.Secondary;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Store drivers (filesystem, Blob), the further copies and the immutability tools.</summary>
    public static IServiceCollection AddBackupStores(this IServiceCollection services)
    {
        services.AddOptions<BlobStoreOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<SecondaryStoreOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<TertiaryStoreOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<BlobStoreOptions>, BlobStoreOptionsValidator>();
        services.AddSingleton<IValidateOptions<SecondaryStoreOptions>, CopyStoreOptionsValidator<SecondaryStoreOptions>>();
        services.AddSingleton<IValidateOptions<TertiaryStoreOptions>, CopyStoreOptionsValidator<TertiaryStoreOptions>>();
        services.AddSingleton<BlobClientFactory>();
        services.AddSingleton<BackupStores>();
        services.AddSingleton<BackupCopier>();
        services.AddSingleton<CopyStatusReader>();
        return services;
    }
}
