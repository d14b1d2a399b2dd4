using Azure.Storage.Blobs;

namespace Floyo.Recovery.Tests.Support;

/// <summary>A uniquely named container on the shared Azurite (others use it at the same time), deleted on dispose.</summary>
public sealed class BlobTestContainer : IAsyncDisposable
{
    public BlobTestContainer(string? connectionString = null, string prefix = "t")
    {
        ConnectionString = connectionString ?? TestServers.BlobConnectionString;
        Name = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];
        Client = new BlobServiceClient(ConnectionString).GetBlobContainerClient(Name);
    }

    public string ConnectionString { get; }

    public string Name { get; }

    public BlobContainerClient Client { get; }

    public async Task<BlobTestContainer> CreateAsync()
    {
        await Client.CreateIfNotExistsAsync();
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.DeleteIfExistsAsync();
        }
        catch (Exception)
        {
            // A private Azurite may already be gone; nothing to clean then.
        }
    }
}
