namespace Floyo.Recovery.Workflows.Models;

/// <summary>The external event that opens an approval gate (a restore's, a breach recovery's): who approves, and why.</summary>
public sealed record Approval(string Approver, string? Comment = null);
