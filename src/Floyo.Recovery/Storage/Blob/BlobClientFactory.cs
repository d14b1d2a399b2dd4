using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>A hook to adjust every Blob client the engine builds (tests add recording or fault-injecting pipeline policies).</summary>
public sealed class BlobClientCustomization(Action<BlobClientOptions> configure)
{
    public void Apply(BlobClientOptions options) => configure(options);
}

/// <summary>
/// Builds container clients from a <see cref="BlobLocation"/>: a connection string (Azurite, keys) when one
/// is given, otherwise the service URI with DefaultAzureCredential (managed identity in Azure).
/// </summary>
public sealed class BlobClientFactory(IEnumerable<BlobClientCustomization> customizations)
{
    private TokenCredential? _credential;

    public BlobContainerClient Container(BlobLocation location)
    {
        var options = new BlobClientOptions();
        // Retries cover brief network blips; a storage outage still fails within seconds, not minutes.
        options.Retry.MaxRetries = 4;
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(8);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
        options.Diagnostics.IsLoggingContentEnabled = false;
        foreach (var customization in customizations)
        {
            customization.Apply(options);
        }

        BlobServiceClient service;
        if (!string.IsNullOrWhiteSpace(location.ConnectionString))
        {
            try
            {
                service = new BlobServiceClient(location.ConnectionString, options);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // The SDK's message may quote the string, and the string holds the key: say only which setting.
                throw new ConfigurationException($"{location.SettingPrefix}_CONNECTION_STRING is not a valid storage connection string");
            }
        }
        else if (Uri.TryCreate(location.ServiceUri, UriKind.Absolute, out var uri))
        {
            _credential ??= new DefaultAzureCredential();
            service = new BlobServiceClient(uri, _credential, options);
        }
        else
        {
            throw new ConfigurationException($"{location.SettingPrefix}_SERVICE_URI or {location.SettingPrefix}_CONNECTION_STRING must be set");
        }
        return service.GetBlobContainerClient(location.Container);
    }

    /// <summary>Where a container is, for messages: scheme, host, path; never a query string (SAS) or key.</summary>
    public static string Describe(BlobContainerClient container) =>
        new UriBuilder(container.Uri) { Query = "", Fragment = "" }.Uri.GetLeftPart(UriPartial.Path);
}
