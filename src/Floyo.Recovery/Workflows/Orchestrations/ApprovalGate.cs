using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// The one approval gate of the workflows that need a second person (restore, breach recovery): it waits for
/// the <see cref="EventName"/> event until a deadline on the orchestration's clock, ignores an approval that
/// names nobody or comes from the requester (unless the request allows it), and closes with no approver when
/// time runs out, so the caller touches nothing.
/// </summary>
public static class ApprovalGate
{
    /// <summary>The external event, raised by the HTTP approve endpoints and by floyo-dr.</summary>
    public const string EventName = "approval";

    /// <summary>The rule, apart from any clock: who may open the gate.</summary>
    public static ApprovalDecision Decide(ApprovalRequest request, Approval? approval)
    {
        ArgumentNullException.ThrowIfNull(request);
        var approver = approval?.Approver?.Trim();
        if (string.IsNullOrEmpty(approver))
        {
            return ApprovalDecision.Ignore("(nobody)", "an approval must name the approver");
        }
        if (Principals.Same(approver, request.RequestedBy) && !request.RequesterMayApprove)
        {
            return ApprovalDecision.Ignore(approver, $"the requester cannot approve their own {request.Workflow}");
        }
        return ApprovalDecision.Accept(approver);
    }

    /// <summary>
    /// Opens the gate: <paramref name="announce"/> is told the deadline (to show it and notify), then approvals are
    /// weighed until one is accepted (its approver returned) or the deadline passes (null). Each ignored one goes to
    /// <paramref name="ignored"/> for the run's record.
    /// </summary>
    public static async Task<string?> WaitAsync(TaskOrchestrationContext context, ApprovalRequest request, ILogger logger,
        Func<DateTime, Task> announce, Action<ApprovalDecision> ignored)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(announce);
        ArgumentNullException.ThrowIfNull(ignored);
        var deadline = context.CurrentUtcDateTime + request.Timeout;
        await announce(deadline);
        while (true)
        {
            var remaining = deadline - context.CurrentUtcDateTime;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }
            Approval approval;
            try
            {
                approval = await context.WaitForExternalEvent<Approval>(EventName, remaining);
            }
            catch (TaskCanceledException)
            {
                return null;
            }
            var decision = Decide(request, approval);
            if (!decision.Accepted)
            {
                logger.ApprovalIgnored(request.Workflow, context.InstanceId, decision.Approver, decision.Why!);
                ignored(decision);
                continue;
            }
            logger.Approved(request.Workflow, context.InstanceId, decision.Approver);
            return decision.Approver;
        }
    }
}
