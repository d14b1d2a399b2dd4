using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Floyo.Recovery.Metrics;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Floyo.Functions.Tests.App;

/// <summary>
/// The app's own composition exports the Floyo.DR meter to Application Insights: a real HTTP listener on loopback
/// plays the ingestion endpoint named by the connection string, and receives the Azure Monitor exporter's real posts.
/// </summary>
public sealed class MetricsExportTests
{
    private static BuiltApp Build(string? connectionString)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [FloyoFunctionsApp.MetricsConnectionSetting] = connectionString });
        FloyoFunctionsApp.Configure(builder);
        return new BuiltApp(builder.Build());
    }

    [Fact]
    public async Task With_a_connection_string_backup_metrics_reach_the_ingestion_endpoint()
    {
        await using var ingestion = new IngestionListener();
        using var app = Build($"InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:{ingestion.Port}/");
        var provider = app.Host.Services.GetRequiredService<MeterProvider>();
        var database = $"export_{Guid.NewGuid():N}";

        DrMetrics.RecordBackup(database, "full", TimeSpan.FromSeconds(7), 1000, 3000);
        Assert.True(provider.ForceFlush(30_000));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!ingestion.Bodies.Any(b => b.Contains(database, StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        var sent = string.Join("\n", ingestion.Bodies.Where(b => b.Contains(database, StringComparison.Ordinal)));
        Assert.Contains(DrMetrics.BackupDurationName, sent, StringComparison.Ordinal);
        Assert.Contains(DrMetrics.BackupSizeName, sent, StringComparison.Ordinal);
        Assert.Contains(DrMetrics.BackupCompressionRatioName, sent, StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"full\"", sent, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_connection_string_no_exporter_is_set_up()
    {
        using var app = Build(null);
        Assert.Null(app.Host.Services.GetService<MeterProvider>());
    }

    private sealed class BuiltApp(Microsoft.Extensions.Hosting.IHost host) : IDisposable
    {
        public Microsoft.Extensions.Hosting.IHost Host { get; } = host;

        public void Dispose() => Host.Dispose();
    }

    /// <summary>Accepts every track request (gzip or plain JSON lines) and keeps its text.</summary>
    private sealed class IngestionListener : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public IngestionListener()
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public int Port { get; }

        public ConcurrentQueue<string> Bodies { get; } = new();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                Stream body = context.Request.InputStream;
                if (string.Equals(context.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase))
                {
                    body = new GZipStream(body, CompressionMode.Decompress);
                }
                using (var reader = new StreamReader(body, Encoding.UTF8))
                {
                    Bodies.Enqueue(await reader.ReadToEndAsync());
                }
                // The answer Application Insights gives: every item accepted.
                var answer = Encoding.UTF8.GetBytes("{\"itemsReceived\":1,\"itemsAccepted\":1,\"errors\":[]}");
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(answer);
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
