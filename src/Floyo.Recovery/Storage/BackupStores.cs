using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Storage;

/// <summary>Which copy of the backups to read: the primary store, or the second copy kept elsewhere.</summary>
public enum BackupSource
{
    Primary,
    Secondary,
}

/// <summary>
/// The stores the configuration names: the primary (BACKUP_STORE) and, when BACKUP_SECONDARY_STORE is
/// set, the second copy. Each is built on first use, so a run that reads only the secondary (the primary
/// data centre is gone) never touches the primary.
/// </summary>
public sealed class BackupStores
{
    private readonly Lazy<IBackupStore> _primary;
    private readonly Lazy<IBackupStore?> _secondary;
    private readonly ILoggerFactory _loggers;

    public BackupStores(
        IOptions<BackupOptions> backup,
        IOptions<BlobStoreOptions> blob,
        IOptions<SecondaryStoreOptions> secondary,
        BlobClientFactory clients,
        TimeProvider clock,
        ILoggerFactory loggers)
    {
        _loggers = loggers;
        var logger = loggers.CreateLogger<BlobStore>();
        _primary = new(() => backup.Value.Kind switch
        {
            StoreKind.Filesystem => new FilesystemStore(backup.Value.Directory),
            StoreKind.Blob => CreateBlob(clients, blob.Value.Location(), clock, logger),
            _ => throw new ConfigurationException($"BACKUP_STORE '{backup.Value.Store}' is not available in this build"),
        });
        _secondary = new(() => secondary.Value.Kind switch
        {
            StoreKind.None => null,
            StoreKind.Filesystem => new FilesystemStore(secondary.Value.Directory!),
            StoreKind.Blob => CreateBlob(clients, secondary.Value.Location(blob.Value), clock, logger),
            _ => throw new ConfigurationException($"BACKUP_SECONDARY_STORE '{secondary.Value.Store}' is not available in this build"),
        });
    }

    public IBackupStore Primary => _primary.Value;

    public IBackupStore? Secondary => _secondary.Value;

    public bool HasSecondary => Secondary is not null;

    public IBackupStore For(BackupSource source) => source switch
    {
        BackupSource.Primary => Primary,
        _ => Secondary ?? throw new ConfigurationException("no second copy is configured: set BACKUP_SECONDARY_STORE (blob or filesystem) and its BACKUP_SECONDARY_* settings"),
    };

    /// <summary>A catalog over one source; the primary's is the shared singleton.</summary>
    public BackupCatalog Catalog(BackupSource source, BackupCatalog primaryCatalog) =>
        source == BackupSource.Primary ? primaryCatalog : new BackupCatalog(For(source), _loggers.CreateLogger<BackupCatalog>());

    public static BackupSource ParseSource(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "primary" => BackupSource.Primary,
        "secondary" => BackupSource.Secondary,
        _ => throw new UsageException($"--source must be 'primary' or 'secondary', not '{value}'"),
    };

    private static BlobStore CreateBlob(BlobClientFactory clients, BlobLocation location, TimeProvider clock, ILogger logger) =>
        new(clients.Container(location), location, clock, logger);
}
