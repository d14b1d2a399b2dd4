using System.Net.Sockets;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Floyo.Cli.Workflows.Engine;

/// <summary>
/// The embedded engine's gRPC sidecar on a unix socket in a private (0700) directory, socket 0600: only this
/// user reaches it. The package's own sidecar listens on a loopback TCP port, where any local user could
/// raise the approval event, terminate or purge, because the sidecar has no authentication.
/// </summary>
internal sealed class PrivateSidecar : IHostedService, IAsyncDisposable
{
    private readonly InMemoryOrchestrationService _service;
    private readonly ILoggerFactory? _loggers;
    private WebApplication? _app;

    public PrivateSidecar(InMemoryOrchestrationService service, ILoggerFactory? loggers)
    {
        _service = service;
        _loggers = loggers;
        // mkdtemp: a new directory only this user may enter, whoever else writes to the temp folder.
        Directory = System.IO.Directory.CreateTempSubdirectory("floyo-dr-engine-");
        System.IO.File.SetUnixFileMode(Directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        SocketPath = Path.Combine(Directory.FullName, "engine.sock");
    }

    public DirectoryInfo Directory { get; }

    public string SocketPath { get; }

    /// <summary>A channel to the sidecar through its socket (the address is only a label: no TCP is involved).</summary>
    public GrpcChannel CreateChannel() => GrpcChannel.ForAddress("http://floyo-dr-engine", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        },
    });

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        if (_loggers is not null)
        {
            builder.Services.AddSingleton(_loggers);
        }
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.ListenUnixSocket(SocketPath, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddRouting();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(_service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(_service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        _app = builder.Build();
        _app.UseRouting();
        _app.MapGrpcService<TaskHubGrpcServer>();
        await _app.StartAsync(cancellationToken);
        System.IO.File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
        Directory.Refresh();
        if (!Directory.Exists)
        {
            return;
        }
        try
        {
            Directory.Delete(recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Already gone; a leftover private empty directory in the temp folder harms no one.
        }
    }
}
