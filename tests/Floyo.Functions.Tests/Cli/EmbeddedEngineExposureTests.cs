using System.Globalization;
using Floyo.Cli.Workflows;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Floyo.Functions.Tests.Cli;

/// <summary>
/// floyo-dr's embedded Durable engine is reached through a gRPC sidecar. Whoever can reach that sidecar can
/// raise the approval event, terminate or purge: it must not listen where another local user can connect.
/// </summary>
public sealed class EmbeddedEngineExposureTests
{
    [Fact]
    public async Task Another_local_user_cannot_reach_the_embedded_engine_to_raise_the_approval_event()
    {
        var before = LoopbackListeners();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        EmbeddedWorkflows.Add(builder.Services);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // Any instance will do (it fails at its first activity: no database is configured here).
            var client = host.Services.GetRequiredService<DurableTaskClient>();
            var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(RestoreOrchestrator),
                new RestoreWorkflowInput("nope_full_20260101_000000.dump.zst", null, false, "exposure test", "alice", RestoreSource.Cli, TimeSpan.FromMinutes(1)));

            var reachable = await ReachableAsync(id, before);
            Assert.True(reachable.Count == 0, $"the embedded engine answers any local user on 127.0.0.1:{string.Join(", ", reachable)}");
            Assert.NotNull(await client.GetInstanceAsync(id));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task The_probe_does_reach_an_engine_that_listens_on_loopback_tcp()
    {
        // The control: the package's own test host serves its sidecar on a loopback TCP port, as floyo-dr once did.
        var before = LoopbackListeners();
        await using var host = await Microsoft.DurableTask.Testing.DurableTaskTestHost.StartAsync(r => { });
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync("not-registered");
        Assert.NotEmpty(await ReachableAsync(id, before));
    }

    /// <summary>What any local user can do: try every loopback TCP listener opened since <paramref name="before"/> as a Durable sidecar.</summary>
    private static async Task<List<int>> ReachableAsync(string id, HashSet<int> before)
    {
        var reachable = new List<int>();
        foreach (var port in LoopbackListeners().Except(before))
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddDurableTaskClient(b => b.UseGrpc($"http://127.0.0.1:{port}"));
            await using var provider = services.BuildServiceProvider();
            var stranger = provider.GetRequiredService<DurableTaskClient>();
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if (await stranger.GetInstanceAsync(id, cts.Token) is not null)
                {
                    reachable.Add(port);
                }
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException or HttpRequestException)
            {
                // Not a sidecar (another test's listener), or not ours.
            }
        }
        return reachable;
    }

    /// <summary>Ports of TCP sockets listening on any or loopback addresses (IPv4 and IPv6), from /proc/net.</summary>
    private static HashSet<int> LoopbackListeners()
    {
        var ports = new HashSet<int>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // st 0A = LISTEN; local address is hexip:hexport.
                if (fields.Length > 3 && fields[3] == "0A")
                {
                    ports.Add(int.Parse(fields[1][(fields[1].IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }
        return ports;
    }
}
