using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.AppData;

/// <summary>The application's own data next to the database: its uploads container and its configuration.</summary>
public sealed class AppDataOptions
{
    [ConfigurationKeyName("UPLOADS_BLOB_SERVICE_URI")]
    public string? UploadsServiceUri { get; set; }

    [ConfigurationKeyName("UPLOADS_BLOB_CONNECTION_STRING")]
    public string? UploadsConnectionString { get; set; }

    [ConfigurationKeyName("UPLOADS_CONTAINER")]
    public string UploadsContainer { get; set; } = "uploads";

    /// <summary>Any day within this many days can be restored as it was.</summary>
    [ConfigurationKeyName("FILES_RETENTION_DAYS")]
    public int FilesRetentionDays { get; set; } = 90;

    /// <summary>Files copied at once during a snapshot or restore.</summary>
    [ConfigurationKeyName("FILES_PARALLELISM")]
    public int FilesParallelism { get; set; } = 4;

    [ConfigurationKeyName("CONFIG_RETENTION_DAYS")]
    public int ConfigRetentionDays { get; set; } = 90;

    /// <summary>The Functions host.json to include in configuration exports; found beside the app when unset.</summary>
    [ConfigurationKeyName("CONFIG_HOST_JSON")]
    public string? HostJsonPath { get; set; }

    public BlobLocation Uploads(string? container = null) =>
        new(UploadsServiceUri, UploadsConnectionString, container ?? UploadsContainer, ImmutabilityMode.Off, "UPLOADS_BLOB");
}
