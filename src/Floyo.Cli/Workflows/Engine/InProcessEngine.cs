using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Workflows.Engine;

/// <summary>
/// The seam around floyo-dr's workflow engine, and the only code that knows which package provides it
/// (Microsoft.DurableTask.InProcessTestHost; why, and what would replace it: docs/decisions/0001-workflow-engine.md):
/// an in-memory task hub behind a Durable Task gRPC sidecar on a private unix socket. It hands back the channel the
/// standard Durable Task worker and client attach to, so replacing the engine means replacing this folder alone.
/// </summary>
internal static class InProcessEngine
{
    public static GrpcChannel Add(IServiceCollection services)
    {
        // The package's AddInMemoryDurableTask listens on loopback TCP without authentication: any local user could
        // raise the approval event. The same parts, with the sidecar on a private unix socket (PrivateSidecar).
        var orchestrations = new InMemoryOrchestrationService(null);
        var sidecar = new PrivateSidecar(orchestrations, null);
        services.AddSingleton(orchestrations);
        services.AddSingleton<IOrchestrationService>(orchestrations);
        services.AddSingleton<IOrchestrationServiceClient>(orchestrations);
        services.AddSingleton(sidecar);
        services.AddHostedService(sp => sp.GetRequiredService<PrivateSidecar>());
        return sidecar.CreateChannel();
    }
}
