using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;

namespace Floyo.Recovery.Tests.Incidents;

/// <summary>The plan's rules on a fake clock: what is due when, and when the workflow wakes next.</summary>
[Trait("Tier", "Fast")]
public sealed class CommunicationPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 2, 0, 0, TimeSpan.Zero);
    private static readonly CommunicationSchedule Plan = new(TimeSpan.FromMinutes(45), TimeSpan.FromHours(1), TimeSpan.FromHours(4), TimeSpan.FromHours(24));

    private static IncidentRecord Incident(TimeSpan? projected = null, params string[] sent) =>
        new("incident-1", "Primary lost", NotificationSeverity.Critical, "test", "alice", T0, "assessing", projected, null, [], sent, []);

    [Fact]
    public void Opening_is_due_at_once_then_stakeholder_updates_at_45_min_and_hourly()
    {
        Assert.Equal(["opened"], CommunicationPlan.Due(Incident(), T0, Plan));
        var opened = Incident(null, "opened");
        Assert.Empty(CommunicationPlan.Due(opened, T0.AddMinutes(44), Plan));
        Assert.Equal(T0.AddMinutes(45), CommunicationPlan.NextDue(opened, T0.AddMinutes(1), Plan));
        Assert.Equal(["update-1"], CommunicationPlan.Due(opened, T0.AddMinutes(45), Plan));
        var one = Incident(null, "opened", "update-1");
        Assert.Equal(T0.AddMinutes(105), CommunicationPlan.NextDue(one, T0.AddMinutes(46), Plan));
        // A late wake-up (the engine was down for 3 h) sends only the newest update due, not the missed ones.
        Assert.Equal(["update-4"], CommunicationPlan.Due(one, T0.AddMinutes(45 + 180), Plan));
    }

    [Fact]
    public void Four_hours_actual_or_projected_bring_the_status_page_and_customers_and_24_hours_the_public_report()
    {
        var sent = new[] { "opened", "update-1", "update-2", "update-3", "update-4" };
        Assert.DoesNotContain("status-page", CommunicationPlan.Due(Incident(null, sent), T0.AddHours(4).AddSeconds(-1), Plan));
        Assert.Equal(T0.AddHours(4), CommunicationPlan.NextDue(Incident(null, sent), T0.AddHours(3).AddMinutes(50), Plan));
        Assert.Equal(["status-page", "customer-email"], CommunicationPlan.Due(Incident(null, sent), T0.AddHours(4), Plan));
        // A projection of exactly 4 h does not pass 4 h; 4 h 01 does, at once.
        Assert.Equal(["opened"], CommunicationPlan.Due(Incident(TimeSpan.FromHours(4)), T0, Plan));
        Assert.Equal(["opened", "status-page", "customer-email"], CommunicationPlan.Due(Incident(TimeSpan.FromHours(4.02)), T0, Plan));
        Assert.Equal(["opened", "status-page", "customer-email", "public-report"], CommunicationPlan.Due(Incident(TimeSpan.FromDays(2)), T0, Plan));
        Assert.Contains("public-report", CommunicationPlan.Due(Incident(null, "status-page", "customer-email"), T0.AddHours(24), Plan));
    }

    [Fact]
    public void A_resolved_incident_stops_the_updates_and_ends_with_the_resolution_and_the_post_mortem()
    {
        var resolved = Incident(null, "opened", "update-1") with
        {
            Changes = [new IncidentChange(1, T0.AddHours(1), "bob", "restoring", "half done", null), new IncidentChange(2, T0.AddHours(2), "bob", null, "done", null, Resolves: true)],
            ResolvedAt = T0.AddHours(2),
        };
        Assert.Equal(["change-1", "resolved", "post-mortem"], CommunicationPlan.Due(resolved, T0.AddHours(9), Plan));
        Assert.Null(CommunicationPlan.NextDue(resolved, T0.AddHours(9), Plan));
        // The actual RTO (2 h) is what counts once resolved, however late the workflow looks.
        Assert.DoesNotContain("customer-email", CommunicationPlan.Due(resolved, T0.AddHours(9), Plan));
    }
}
