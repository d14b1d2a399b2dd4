using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Floyo.Recovery;
using Floyo.Recovery.Workflows;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Tests.Support;

/// <summary>
/// The real orchestrations and activities on the in-process Durable host, over the real engine, configured
/// from the same setting names as the app. Logs are captured so tests can wait for an event.
/// </summary>
public sealed class WorkflowHost : IAsyncDisposable
{
    private readonly DurableTaskTestHost _host;
    private readonly ILoggerFactory _loggers;

    private WorkflowHost(DurableTaskTestHost host, ILoggerFactory loggers, CapturedLogs logs, IConfiguration configuration)
    {
        _host = host;
        _loggers = loggers;
        Logs = logs;
        Configuration = configuration;
    }

    public DurableTaskClient Client => _host.Client;

    public IServiceProvider Services => _host.Services;

    public CapturedLogs Logs { get; }

    public IConfiguration Configuration { get; }

    public static async Task<WorkflowHost> StartAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var logs = new CapturedLogs();
        var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        var host = await DurableTaskTestHost.StartAsync(r => r.AddFloyoWorkflows().AddFloyoIncidentStarter(), new DurableTaskTestHostOptions
        {
            Port = FreePort(),
            LoggerFactory = loggers,
            ConfigureServices = services =>
            {
                services.AddSingleton<IConfiguration>(configuration);
                services.AddFloyoRecovery();
                configure?.Invoke(services);
            },
        });
        return new WorkflowHost(host, loggers, logs, configuration);
    }

    public async Task<OrchestrationMetadata> WaitAsync(string id, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        return await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
    }

    /// <summary>Polls the custom status until it mentions <paramref name="stage"/> (the restore stages are JSON with a "Stage").</summary>
    public async Task<OrchestrationMetadata> WaitForStatusAsync(string id, string stage, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var state = await Client.GetInstanceAsync(id, getInputsAndOutputs: true);
            if (state?.SerializedCustomStatus?.Contains($"\"{stage}\"", StringComparison.Ordinal) == true)
            {
                return state;
            }
            Assert.False(state?.IsCompleted == true, $"{id} ended as {state?.RuntimeStatus} ({state?.FailureDetails?.ErrorMessage}) before reaching {stage}");
            Assert.True(DateTime.UtcNow < deadline, $"{id} never reached {stage}; last status {state?.SerializedCustomStatus}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _loggers.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, int EventId, string Message);

public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public async Task<CapturedLog> WaitForAsync(int eventId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_entries.FirstOrDefault(e => e.EventId == eventId) is { } found)
            {
                return found;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no log event {eventId} within {timeout}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new CapturedLog(category, logLevel, eventId.Id, formatter(state, exception)));
    }
}
