using Floyo.Recovery.Backups;
using Microsoft.Extensions.Hosting;

namespace Floyo.Recovery.Workflows;

/// <summary>
/// What activities need from the process they run in, beyond the engine: a token that fires when the
/// host shuts down (Durable activities get none of their own), and an optional progress sink, which
/// floyo-dr points at the terminal.
/// </summary>
public sealed class WorkflowRuntime(IHostApplicationLifetime? lifetime = null)
{
    public CancellationToken Stopping => lifetime?.ApplicationStopping ?? CancellationToken.None;

    public IProgress<TransferProgress>? Progress { get; set; }
}
