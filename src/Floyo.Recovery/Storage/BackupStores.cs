using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Storage;

/// <summary>Which copy of the backups to read: the primary store, or one of the copies kept elsewhere.</summary>
public enum BackupSource
{
    Primary,
    Secondary,
    Tertiary,
}

/// <summary>
/// The stores the configuration names: the primary (BACKUP_STORE) and, when BACKUP_SECONDARY_STORE or
/// BACKUP_TERTIARY_STORE is set, the further copies. Each is built on first use, so a run that reads only a
/// copy (the primary data centre is gone) never touches the primary.
/// </summary>
public sealed class BackupStores
{
    /// <summary>The copies every backup is copied to when configured, in the order they are made.</summary>
    public static readonly IReadOnlyList<BackupSource> Copies = [BackupSource.Secondary, BackupSource.Tertiary];

    private readonly Lazy<IBackupStore> _primary;
    private readonly Dictionary<BackupSource, (CopySettings Options, Lazy<IBackupStore?> Store)> _copies;
    private readonly ILoggerFactory _loggers;

    public BackupStores(
        IOptions<BackupOptions> backup,
        IOptions<BlobStoreOptions> blob,
        IOptions<SecondaryStoreOptions> secondary,
        IOptions<TertiaryStoreOptions> tertiary,
        BlobClientFactory clients,
        TimeProvider clock,
        ILoggerFactory loggers)
    {
        _loggers = loggers;
        var logger = loggers.CreateLogger<BlobStore>();
        _primary = new(() => CreatePrimary(backup.Value, blob.Value, clients, clock, logger));
        Lazy<IBackupStore?> Copy(CopySettings options) => new(() => options.Kind switch
        {
            StoreKind.None => null,
            StoreKind.Filesystem => new FilesystemStore(options.Directory!),
            StoreKind.Blob => CreateBlob(clients, options.Location(blob.Value), clock, logger),
            _ => throw new ConfigurationException($"{options.Prefix}_STORE '{options.Store}' is not available in this build"),
        });
        _copies = new()
        {
            [BackupSource.Secondary] = (secondary.Value.Settings(), Copy(secondary.Value.Settings())),
            [BackupSource.Tertiary] = (tertiary.Value.Settings(), Copy(tertiary.Value.Settings())),
        };
    }

    public IBackupStore Primary => _primary.Value;

    public IBackupStore? Secondary => _copies[BackupSource.Secondary].Store.Value;

    public bool HasSecondary => Secondary is not null;

    /// <summary>The copy's store, or null when it is not configured.</summary>
    public IBackupStore? CopyStore(BackupSource copy) => _copies[copy].Store.Value;

    /// <summary>A further copy's settings (what a restore_command reading from it must be given).</summary>
    public CopySettings SettingsOf(BackupSource copy) => _copies[copy].Options;

    public bool Has(BackupSource source) => source == BackupSource.Primary || CopyStore(source) is not null;

    public IBackupStore For(BackupSource source) => source switch
    {
        BackupSource.Primary => Primary,
        _ => CopyStore(source) ?? throw new ConfigurationException(
            $"no {Ordinal(source)} copy is configured: set {_copies[source].Options.Prefix}_STORE (blob or filesystem) and its {_copies[source].Options.Prefix}_* settings"),
    };

    /// <summary>"second" or "third": how messages name a copy.</summary>
    public static string Ordinal(BackupSource source) => source switch
    {
        BackupSource.Secondary => "second",
        BackupSource.Tertiary => "third",
        _ => "primary",
    };

    /// <summary>A catalog over one source; the primary's is the shared singleton.</summary>
    public BackupCatalog Catalog(BackupSource source, BackupCatalog primaryCatalog) =>
        source == BackupSource.Primary ? primaryCatalog : new BackupCatalog(For(source), _loggers.CreateLogger<BackupCatalog>());

    public static BackupSource ParseSource(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "primary" => BackupSource.Primary,
        "secondary" => BackupSource.Secondary,
        "tertiary" => BackupSource.Tertiary,
        _ => throw new UsageException($"--source must be 'primary', 'secondary' or 'tertiary', not '{value}'"),
    };

    /// <summary>The primary store the settings name (BACKUP_STORE); also how <c>wal push</c>/<c>fetch</c> build theirs without the container.</summary>
    public static IBackupStore CreatePrimary(BackupOptions backup, BlobStoreOptions blob, BlobClientFactory clients, TimeProvider clock, ILogger logger) => backup.Kind switch
    {
        StoreKind.Filesystem => new FilesystemStore(backup.Directory),
        StoreKind.Blob => CreateBlob(clients, blob.Location(), clock, logger),
        _ => throw new ConfigurationException($"BACKUP_STORE '{backup.Store}' is not available in this build"),
    };

    private static BlobStore CreateBlob(BlobClientFactory clients, BlobLocation location, TimeProvider clock, ILogger logger) =>
        new(clients.Container(location), location, clock, logger);
}
