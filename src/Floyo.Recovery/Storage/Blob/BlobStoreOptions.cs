using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>The primary Blob store (BACKUP_STORE=blob). Names follow the DR plan's environment variables.</summary>
public sealed class BlobStoreOptions
{
    /// <summary>e.g. https://account.blob.core.windows.net; authenticated with DefaultAzureCredential (managed identity in Azure).</summary>
    [ConfigurationKeyName("BACKUP_BLOB_SERVICE_URI")]
    public string? ServiceUri { get; set; }

    /// <summary>A connection string (Azurite locally); takes precedence over the service URI.</summary>
    [ConfigurationKeyName("BACKUP_BLOB_CONNECTION_STRING")]
    public string? ConnectionString { get; set; }

    [ConfigurationKeyName("BACKUP_BLOB_CONTAINER")]
    public string Container { get; set; } = "backups";

    /// <summary><c>unlocked</c> (default), <c>locked</c> or <c>off</c>.</summary>
    [ConfigurationKeyName("BACKUP_IMMUTABILITY_MODE")]
    public string ImmutabilityMode { get; set; } = "unlocked";

    /// <summary>Staged block size; memory in use is about (parallelism + 1) blocks.</summary>
    [ConfigurationKeyName("BACKUP_BLOB_BLOCK_SIZE_MB")]
    public int BlockSizeMiB { get; set; } = 8;

    [ConfigurationKeyName("BACKUP_BLOB_UPLOAD_PARALLELISM")]
    public int UploadParallelism { get; set; } = 4;

    /// <summary>Blob index tags (database, type, date, kind) on every object; setting them needs the blob tags permission.</summary>
    [ConfigurationKeyName("BACKUP_BLOB_INDEX_TAGS")]
    public bool IndexTags { get; set; } = true;

    public BlobLocation Location() => new(ServiceUri, ConnectionString, Container, ImmutabilityModes.Parse(ImmutabilityMode), "BACKUP_BLOB", BlockSizeMiB, UploadParallelism, IndexTags);
}

/// <summary>
/// A further copy of every backup (the second, BACKUP_SECONDARY_*, and the third, BACKUP_TERTIARY_*): another
/// container/account, or a filesystem path. Each copy declares its own setting names (a name is an attribute);
/// what they mean, how they are validated and how the store is reached is shared through <see cref="CopySettings"/>.
/// </summary>
public interface ICopyStoreOptions
{
    CopySettings Settings();
}

/// <summary>One further copy's settings, whichever copy it is. <see cref="Prefix"/> names its settings in messages.</summary>
public sealed record CopySettings(
    BackupSource Source,
    string Prefix,
    string Store,
    string? Directory,
    string? ServiceUri,
    string? ConnectionString,
    string Container,
    string? ImmutabilityMode)
{
    public bool IsConfigured => Kind != StoreKind.None;

    /// <summary><see cref="Store"/> as the closed set it is (null: another word, which validation refuses at start-up).</summary>
    public StoreKind? Kind => StoreKinds.Parse(Store);

    public BlobLocation Location(BlobStoreOptions primary) =>
        new(ServiceUri, ConnectionString, Container, ImmutabilityModes.Parse(ImmutabilityMode ?? primary.ImmutabilityMode), $"{Prefix}_BLOB", primary.BlockSizeMiB, primary.UploadParallelism, primary.IndexTags);
}

/// <summary>The second copy (BACKUP_SECONDARY_*), in the plan the remote bucket in another region.</summary>
public sealed class SecondaryStoreOptions : ICopyStoreOptions
{
    /// <summary><c>none</c> (default), <c>blob</c> or <c>filesystem</c>.</summary>
    [ConfigurationKeyName("BACKUP_SECONDARY_STORE")]
    public string Store { get; set; } = "none";

    [ConfigurationKeyName("BACKUP_SECONDARY_DIR")]
    public string? Directory { get; set; }

    [ConfigurationKeyName("BACKUP_SECONDARY_BLOB_SERVICE_URI")]
    public string? ServiceUri { get; set; }

    [ConfigurationKeyName("BACKUP_SECONDARY_BLOB_CONNECTION_STRING")]
    public string? ConnectionString { get; set; }

    [ConfigurationKeyName("BACKUP_SECONDARY_BLOB_CONTAINER")]
    public string Container { get; set; } = "backups";

    /// <summary>Defaults to BACKUP_IMMUTABILITY_MODE.</summary>
    [ConfigurationKeyName("BACKUP_SECONDARY_IMMUTABILITY_MODE")]
    public string? ImmutabilityMode { get; set; }

    public bool IsConfigured => Settings().IsConfigured;

    public CopySettings Settings() => new(BackupSource.Secondary, "BACKUP_SECONDARY", Store, Directory, ServiceUri, ConnectionString, Container, ImmutabilityMode);
}

/// <summary>The third copy (BACKUP_TERTIARY_*), in the plan the off-site backup server.</summary>
public sealed class TertiaryStoreOptions : ICopyStoreOptions
{
    /// <summary><c>none</c> (default), <c>blob</c> or <c>filesystem</c>.</summary>
    [ConfigurationKeyName("BACKUP_TERTIARY_STORE")]
    public string Store { get; set; } = "none";

    [ConfigurationKeyName("BACKUP_TERTIARY_DIR")]
    public string? Directory { get; set; }

    [ConfigurationKeyName("BACKUP_TERTIARY_BLOB_SERVICE_URI")]
    public string? ServiceUri { get; set; }

    [ConfigurationKeyName("BACKUP_TERTIARY_BLOB_CONNECTION_STRING")]
    public string? ConnectionString { get; set; }

    [ConfigurationKeyName("BACKUP_TERTIARY_BLOB_CONTAINER")]
    public string Container { get; set; } = "backups";

    /// <summary>Defaults to BACKUP_IMMUTABILITY_MODE.</summary>
    [ConfigurationKeyName("BACKUP_TERTIARY_IMMUTABILITY_MODE")]
    public string? ImmutabilityMode { get; set; }

    public bool IsConfigured => Settings().IsConfigured;

    public CopySettings Settings() => new(BackupSource.Tertiary, "BACKUP_TERTIARY", Store, Directory, ServiceUri, ConnectionString, Container, ImmutabilityMode);
}

public enum ImmutabilityMode
{
    Off,
    Unlocked,
    Locked,
}

public static class ImmutabilityModes
{
    public static bool IsValid(string? value) => value is "off" or "unlocked" or "locked";

    public static ImmutabilityMode Parse(string value) => value switch
    {
        "off" => ImmutabilityMode.Off,
        "unlocked" => ImmutabilityMode.Unlocked,
        "locked" => ImmutabilityMode.Locked,
        _ => throw new ConfigurationException($"BACKUP_IMMUTABILITY_MODE must be 'unlocked', 'locked' or 'off', not '{value}'"),
    };
}

/// <summary>One container somewhere, and how to reach it. <see cref="SettingPrefix"/> names the settings in messages.</summary>
public sealed record BlobLocation(
    string? ServiceUri,
    string? ConnectionString,
    string Container,
    ImmutabilityMode Mode,
    string SettingPrefix,
    int BlockSizeMiB = 8,
    int UploadParallelism = 4,
    bool IndexTags = true);
