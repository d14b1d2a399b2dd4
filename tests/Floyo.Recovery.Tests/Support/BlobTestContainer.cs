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

    /// <summary>Valid base64, not the account's key: every request made with it is refused (403).</summary>
    public const string WrongKey = "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The connection string with another account key: a store that refuses everything.</summary>
    public static string WithKey(string connectionString, string key)
    {
        if (connectionString.StartsWith("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("the test needs an explicit Azurite connection string (scripts/test.sh sets one)");
        }
        return string.Join(';', connectionString.Split(';').Select(p => p.Trim().StartsWith("AccountKey=", StringComparison.OrdinalIgnoreCase) ? "AccountKey=" + key : p));
    }
}
