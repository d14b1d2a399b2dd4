using System.Text.Json;
using Floyo.Recovery;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;

namespace Floyo.Cli.Workflows;

/// <summary>
/// floyo-dr's side of the approval gate, for restore and breach alike: the refusals decided before anything
/// starts (a script without an approver must not sit waiting), and following a workflow to its approval wait,
/// where the approval from --approve-as or the terminal is sent once.
/// </summary>
/// <param name="Requester">The login user who typed the command.</param>
/// <param name="Approver">--approve-as, trimmed; null when not given.</param>
/// <param name="AtTerminal">Someone can answer a prompt (neither stdin nor stderr redirected).</param>
internal sealed record ApprovalPrompt(string Requester, string? Approver, bool AtTerminal)
{
    public static ApprovalPrompt FromConsole(string? approveAs) =>
        new(Environment.UserName, approveAs?.Trim(), !Console.IsInputRedirected && !Console.IsErrorRedirected);

    /// <summary>Throws when the request cannot be approved as asked; <paramref name="needsApproval"/> says why a second person is needed.</summary>
    public void Check(bool approvalRequired, string needsApproval)
    {
        if (Approver is { Length: 0 })
        {
            throw new UsageException("--approve-as needs the approver's name");
        }
        if (!approvalRequired)
        {
            return;
        }
        if (Approver is null && !AtTerminal)
        {
            throw new RefusedException($"{needsApproval}: run it at a terminal or pass --approve-as <name>; nothing was changed");
        }
        if (Approver is not null && Principals.Same(Approver, Requester))
        {
            throw new RefusedException($"--approve-as must name someone other than you ({Requester}); nothing was changed");
        }
    }

    /// <summary>Who approves at the gate: null when nobody other than the requester does (and a second person is needed).</summary>
    public async Task<string?> ApproverAsync(bool requesterMayApprove, Func<Task<string?>> ask)
    {
        ArgumentNullException.ThrowIfNull(ask);
        if (requesterMayApprove)
        {
            return Approver ?? Requester;
        }
        var name = Approver ?? (AtTerminal ? await ask() : null);
        return name is null || Principals.Same(name, Requester) ? null : name;
    }

    /// <summary>
    /// Follows workflow <paramref name="id"/> until it completes. At its approval wait (<paramref name="waiting"/> gives
    /// one) it approves once, or ends the workflow with <paramref name="terminate"/> and refuses; at any other stage
    /// <paramref name="other"/> may act, and ends the following by giving a report.
    /// </summary>
    public async Task<TReport> FollowAsync<TProgress, TReport>(DurableTaskClient client, string id,
        Func<TProgress, ApprovalWait?> waiting, Func<string, CancellationToken, Task> terminate,
        Func<TProgress, CancellationToken, Task<TReport?>>? other, CancellationToken ct)
        where TReport : class
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(waiting);
        ArgumentNullException.ThrowIfNull(terminate);
        var approvalSent = false;
        while (true)
        {
            var state = await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct) ?? throw new RecoveryException($"workflow {id} vanished from the embedded engine");
            if (state.IsCompleted)
            {
                return EmbeddedWorkflows.Output<TReport>(state, id);
            }
            var progress = state.SerializedCustomStatus is { } status ? JsonSerializer.Deserialize<TProgress>(status) : default;
            if (progress is not null && !approvalSent && waiting(progress) is { } wait)
            {
                if (!wait.RequesterMayApprove)
                {
                    Output.EndProgress();
                }
                var name = await ApproverAsync(wait.RequesterMayApprove, () => AskAsync(wait, ct));
                if (name is null)
                {
                    await terminate("no approval given", ct);
                    throw new RefusedException(wait.Refusal);
                }
                await client.RaiseEventAsync(id, ApprovalGate.EventName, new Approval(name, "floyo-dr"), ct);
                approvalSent = true;
                continue;
            }
            if (progress is not null && other is not null && await other(progress, ct) is { } report)
            {
                return report;
            }
            await Task.Delay(EmbeddedWorkflows.PollInterval, ct);
        }
    }

    private async Task<string?> AskAsync(ApprovalWait wait, CancellationToken ct)
    {
        foreach (var line in wait.Prompt)
        {
            Console.Error.WriteLine(line);
        }
        Console.Error.Write($"approver, someone other than {Requester} (empty: {wait.EmptyMeans}): ");
        var answer = await Console.In.ReadLineAsync(ct);
        return string.IsNullOrWhiteSpace(answer) ? null : answer.Trim();
    }
}
