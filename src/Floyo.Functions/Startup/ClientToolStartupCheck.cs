using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Hosting;

namespace Floyo.Functions.Startup;

/// <summary>
/// At start-up, logs whether pg_dump, pg_restore and pg_basebackup are present and new enough for the server
/// (a warning per finding), so a deployment without usable tools says so at once instead of at 02:00. It runs
/// beside the start, never delaying or stopping it: /api/health keeps reporting the same findings.
/// </summary>
public sealed class ClientToolStartupCheck(ClientToolCheck check) : BackgroundService
{
    /// <summary>A server that does not answer must not keep the check (or the host's shutdown) waiting.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(1);

    /// <summary>The finished check, for tests and diagnostics.</summary>
    public Task<ToolReport?> Completed => _completed.Task;

    private readonly TaskCompletionSource<ToolReport?> _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        limit.CancelAfter(Limit);
        try
        {
            var report = await check.CheckAsync(limit.Token);
            check.Log(report);
            _completed.TrySetResult(report);
        }
        catch (OperationCanceledException)
        {
            _completed.TrySetResult(null);
        }
    }
}
