using Azure.Core.Pipeline;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Support;

/// <summary>The in-process engine on a Blob store, with the real SDK client and optional protocol-level helpers.</summary>
public static class BlobEngine
{
    public static Dictionary<string, string?> Settings(string connectionString, string container, string mode = "off", string? databaseUrl = null) => new()
    {
        ["BACKUP_STORE"] = "blob",
        ["BACKUP_BLOB_CONNECTION_STRING"] = connectionString,
        ["BACKUP_BLOB_CONTAINER"] = container,
        ["BACKUP_IMMUTABILITY_MODE"] = mode,
        ["DATABASE_URL"] = databaseUrl,
        ["BACKUP_BLOB_BLOCK_SIZE_MB"] = "1",
    };

    /// <param name="recorder">Sees every request the SDK sends.</param>
    /// <param name="handler">The HTTP handler under the SDK's transport (WORM emulation, fault injection).</param>
    public static ServiceProvider Create(IDictionary<string, string?> settings, HttpRecorder? recorder = null, HttpMessageHandler? handler = null, TimeProvider? clock = null) =>
        Engine.Create(settings, clock, services => services.AddSingleton(new BlobClientCustomization(options =>
        {
            if (recorder is not null)
            {
                options.AddPolicy(recorder, Azure.Core.HttpPipelinePosition.PerRetry);
            }
            if (handler is not null)
            {
                options.Transport = new HttpClientTransport(new HttpClient(handler, disposeHandler: false));
            }
        })));
}
