namespace Floyo.Recovery.Workflows.Models;

/// <param name="Workflow">What is approved, as a person says it ("restore", "breach recovery"): in logs and reasons.</param>
/// <param name="RequesterMayApprove">Only when settings ask for no second person (a restore with RESTORE_APPROVAL_REQUIRED off).</param>
/// <param name="Timeout">How long the gate stays open; then it closes with no approver and nothing is done.</param>
public sealed record ApprovalRequest(string Workflow, string RequestedBy, bool RequesterMayApprove, TimeSpan Timeout);
