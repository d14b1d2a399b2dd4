namespace Floyo.Recovery.Workflows.Models;

/// <summary>What the gate makes of one approval event: accepted (the approver, trimmed) or ignored (and why).</summary>
public sealed record ApprovalDecision(bool Accepted, string Approver, string? Why = null)
{
    public static ApprovalDecision Accept(string approver) => new(true, approver);

    public static ApprovalDecision Ignore(string approver, string why) => new(false, approver, why);
}
