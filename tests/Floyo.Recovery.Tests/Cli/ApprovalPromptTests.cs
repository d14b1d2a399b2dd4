using Floyo.Cli.Workflows;

namespace Floyo.Recovery.Tests.Cli;

/// <summary>floyo-dr's approval decisions: refusals before anything starts, and who approves at the gate.</summary>
[Trait("Tier", "Fast")]
public sealed class ApprovalPromptTests
{
    private static Task<string?> Answer(string? typed) => Task.FromResult(typed);

    private static Func<Task<string?>> NeverAsked => () => throw new InvalidOperationException("nobody should be asked");

    [Fact]
    public void An_empty_approve_as_is_a_usage_error_even_when_no_approval_is_required()
    {
        var e = Assert.Throws<UsageException>(() => new ApprovalPrompt("alice", "", AtTerminal: true).Check(approvalRequired: false, "x"));
        Assert.Equal("--approve-as needs the approver's name", e.Message);
    }

    [Fact]
    public void A_script_without_an_approver_is_refused_before_it_starts()
    {
        var e = Assert.Throws<RefusedException>(() => new ApprovalPrompt("alice", null, AtTerminal: false).Check(approvalRequired: true, "this restore needs a second person"));
        Assert.Equal("this restore needs a second person: run it at a terminal or pass --approve-as <name>; nothing was changed", e.Message);
        Assert.Equal(ErrorKind.RefusedForSafety, e.Kind);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("ALICE")]
    public void Approving_oneself_with_approve_as_is_refused(string approver)
    {
        var e = Assert.Throws<RefusedException>(() => new ApprovalPrompt("alice", approver, AtTerminal: true).Check(approvalRequired: true, "x"));
        Assert.Contains("someone other than you (alice)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_is_refused_when_no_approval_is_required()
    {
        new ApprovalPrompt("alice", "alice", AtTerminal: false).Check(approvalRequired: false, "x");
        new ApprovalPrompt("alice", null, AtTerminal: false).Check(approvalRequired: false, "x");
    }

    [Fact]
    public async Task Approve_as_is_sent_without_asking()
    {
        Assert.Equal("bob", await new ApprovalPrompt("alice", "bob", AtTerminal: true).ApproverAsync(requesterMayApprove: false, NeverAsked));
    }

    [Fact]
    public async Task At_a_terminal_the_typed_name_approves_and_the_requesters_own_does_not()
    {
        var prompt = new ApprovalPrompt("alice", null, AtTerminal: true);
        Assert.Equal("carol", await prompt.ApproverAsync(false, () => Answer("carol")));
        Assert.Null(await prompt.ApproverAsync(false, () => Answer("Alice")));
        Assert.Null(await prompt.ApproverAsync(false, () => Answer(null)));
    }

    [Fact]
    public async Task Without_a_terminal_nobody_is_asked_and_nobody_approves()
    {
        Assert.Null(await new ApprovalPrompt("alice", null, AtTerminal: false).ApproverAsync(false, NeverAsked));
    }

    [Fact]
    public async Task When_no_second_person_is_asked_for_the_requester_approves_in_their_own_name()
    {
        Assert.Equal("alice", await new ApprovalPrompt("alice", null, AtTerminal: false).ApproverAsync(requesterMayApprove: true, NeverAsked));
        Assert.Equal("bob", await new ApprovalPrompt("alice", "bob", AtTerminal: false).ApproverAsync(requesterMayApprove: true, NeverAsked));
    }
}
