using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;

namespace Floyo.Recovery.Tests.Workflows.Orchestrations;

/// <summary>The approval gate's rule (who may open it), apart from the engine's clock and events.</summary>
[Trait("Tier", "Fast")]
public sealed class ApprovalGateTests
{
    private static readonly ApprovalRequest Restore = new("restore", "alice", RequesterMayApprove: false, TimeSpan.FromMinutes(5));

    [Fact]
    public void Someone_other_than_the_requester_opens_it_in_their_trimmed_name()
    {
        var decision = ApprovalGate.Decide(Restore, new Approval("  bob "));
        Assert.True(decision.Accepted);
        Assert.Equal("bob", decision.Approver);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData(" ALICE ")]
    public void The_requester_cannot_approve_their_own_request_in_any_spelling(string approver)
    {
        var decision = ApprovalGate.Decide(Restore, new Approval(approver));
        Assert.False(decision.Accepted);
        Assert.Equal("the requester cannot approve their own restore", decision.Why);
    }

    [Fact]
    public void The_requester_approves_when_no_second_person_is_asked_for()
    {
        var decision = ApprovalGate.Decide(Restore with { RequesterMayApprove = true }, new Approval("Alice"));
        Assert.True(decision.Accepted);
        Assert.Equal("Alice", decision.Approver);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void An_approval_that_names_nobody_is_ignored(string? approver)
    {
        var decision = ApprovalGate.Decide(Restore with { RequesterMayApprove = true }, approver is null ? null : new Approval(approver));
        Assert.False(decision.Accepted);
        Assert.Equal("(nobody)", decision.Approver);
        Assert.Equal("an approval must name the approver", decision.Why);
    }

    [Fact]
    public void The_reason_names_the_workflow()
    {
        var decision = ApprovalGate.Decide(Restore with { Workflow = "breach recovery" }, new Approval("alice"));
        Assert.Equal("the requester cannot approve their own breach recovery", decision.Why);
    }

    [Fact]
    public void Restore_and_breach_recovery_listen_for_the_same_event()
    {
        Assert.Equal(ApprovalGate.EventName, RestoreOrchestrator.ApprovalEvent);
        Assert.Equal(ApprovalGate.EventName, BreachRecoveryOrchestrator.ApprovalEvent);
    }
}
