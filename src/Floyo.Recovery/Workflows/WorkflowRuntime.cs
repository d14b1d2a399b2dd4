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

    /// <summary>
    /// Set only by floyo-dr, whose engine lives in its own process: the person who typed the command is there to
    /// approve it. The Functions app never sets it, so no request can make a requester their own approver there.
    /// </summary>
    public bool OperatorAtTerminal { get; set; }

    /// <summary>
    /// Set by floyo-dr, whose engine lives only as long as the command: an incident's communication workflow does not
    /// keep running there (the command lets it send what is due before it exits), and its drills are someone's
    /// rehearsal, not production's (INCIDENT_ON_DRILL_FAILURE's default).
    /// </summary>
    public bool EngineEndsWithCommand { get; set; }
}
