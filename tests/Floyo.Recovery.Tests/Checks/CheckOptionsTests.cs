using Floyo.Recovery.Checks;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Tests.Checks;

[Trait("Tier", "Fast")]
public sealed class CheckOptionsTests
{
    private static OptionsValidationException? Validate(Dictionary<string, string?> settings)
    {
        using var engine = Engine.Create(settings);
        try
        {
            _ = engine.GetRequiredService<IOptions<CheckOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException e)
        {
            return e;
        }
    }

    [Fact]
    public void The_defaults_are_valid_and_those_of_the_plan()
    {
        using var engine = Engine.Create(new Dictionary<string, string?>());
        var o = engine.GetRequiredService<IOptions<CheckOptions>>().Value;
        Assert.Equal(TimeSpan.FromHours(26), o.BackupMaxAge);
        Assert.Null(o.DatabaseCapacityGb);
        Assert.Equal(80, o.DiskWarningPercent);
        Assert.Equal(90, o.DiskCriticalPercent);
        Assert.Equal(8, engine.GetServices<ICheck>().Count());
        Assert.Equal(["backup-age", "recovery-point", "wal-copies", "replication-lag", "replication-slots", "database-size", "backup-dir-space", "error-rate"],
            engine.GetRequiredService<CheckRunner>().Names);
    }

    [Theory]
    [InlineData("CHECK_DISK_WARNING_PERCENT", "95", "CHECK_DISK_WARNING_PERCENT must be above 0 and below CHECK_DISK_CRITICAL_PERCENT")]
    [InlineData("CHECK_DISK_CRITICAL_PERCENT", "101", "CHECK_DISK_WARNING_PERCENT must be above 0 and below CHECK_DISK_CRITICAL_PERCENT")]
    [InlineData("DATABASE_CAPACITY_GB", "0", "DATABASE_CAPACITY_GB must be a positive number")]
    [InlineData("CHECK_BACKUP_MAX_AGE", "-01:00:00", "CHECK_BACKUP_MAX_AGE must be positive")]
    [InlineData("CHECK_REPLICATION_LAG_MAX", "00:00:00", "CHECK_REPLICATION_LAG_MAX must be positive")]
    [InlineData("CHECK_ERROR_BASELINE", "01:00:00", "CHECK_ERROR_WINDOW must be positive and CHECK_ERROR_BASELINE at least as long")]
    [InlineData("CHECK_ERROR_MIN_FAILURES", "0", "CHECK_ERROR_MIN_FAILURES must be at least 1")]
    [InlineData("CHECK_ERROR_FACTOR", "0.5", "CHECK_ERROR_FACTOR must be at least 1")]
    [InlineData("CHECK_SLOT_RETAINED_MAX_BYTES", "0", "CHECK_SLOT_RETAINED_MAX_BYTES must be positive")]
    [InlineData("CHECK_EXPECTED_STANDBYS", "-1", "CHECK_EXPECTED_STANDBYS must be between 0 and 100")]
    public void A_bad_threshold_fails_at_start_up_naming_its_setting(string setting, string value, string expected)
    {
        var e = Validate(new() { [setting] = value });
        Assert.NotNull(e);
        Assert.Contains(e.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }
}
