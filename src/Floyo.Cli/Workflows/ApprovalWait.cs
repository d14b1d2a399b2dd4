namespace Floyo.Cli.Workflows;

/// <summary>A workflow waiting at its approval gate, as the CLI shows it.</summary>
/// <param name="RequesterMayApprove">No second person asked for: the person who typed the command approves in their own name.</param>
/// <param name="Prompt">What is to be approved, printed before the question.</param>
/// <param name="EmptyMeans">What an empty answer does ("cancel", "do not restore, stay isolated").</param>
/// <param name="Refusal">The error when nobody but the requester approves; the workflow has been ended by then.</param>
internal sealed record ApprovalWait(bool RequesterMayApprove, IReadOnlyList<string> Prompt, string EmptyMeans, string Refusal);
