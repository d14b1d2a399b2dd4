using Floyo.Recovery.Drills;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>Drills measure RPO from the recovery point: the restored dump, or the continuous WAL archive when it reaches later.</summary>
[Trait("Tier", "Fast")]
public sealed class RecoveryPointMeasurementTests
{
    private static readonly DateTimeOffset Incident = new(2026, 11, 30, 14, 0, 0, TimeSpan.Zero);
    private static readonly RecoveryTargets Plan = new(TimeSpan.FromHours(4), TimeSpan.FromHours(1), TimeSpan.FromHours(24), TimeSpan.FromHours(24));

    [Fact]
    public void A_dump_from_02_00_alone_misses_the_one_hour_target_but_with_wal_archived_two_minutes_before_the_incident_the_drill_passes()
    {
        var dump = Incident.AddHours(-12);

        var dumpOnly = RecoveryMeasurement.Evaluate(Incident, RecoveryMeasurement.RecoveryPoint(dump, null, Incident), Incident.AddMinutes(20), Plan);
        var withWal = RecoveryMeasurement.Evaluate(Incident, RecoveryMeasurement.RecoveryPoint(dump, Incident.AddMinutes(-2), Incident), Incident.AddMinutes(20), Plan);

        Assert.Equal("RPO 12h00m00s exceeds the target 1h00m00s (within the maximum 24h00m00s)", Assert.Single(dumpOnly.Failures));
        Assert.Empty(withWal.Failures);
        Assert.Equal(TimeSpan.FromMinutes(2), withWal.Rpo);
    }

    [Fact]
    public void Wal_archived_after_the_incident_counts_only_up_to_the_incident_and_an_older_archive_never_moves_the_point_back()
    {
        Assert.Equal(Incident, RecoveryMeasurement.RecoveryPoint(Incident.AddHours(-3), Incident.AddMinutes(5), Incident));
        Assert.Equal(Incident.AddHours(-1), RecoveryMeasurement.RecoveryPoint(Incident.AddHours(-1), Incident.AddHours(-5), Incident));
    }
}
