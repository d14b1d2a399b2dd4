using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>
/// Thresholds of the health checks (<c>floyo-dr check</c>, the Functions checks timer). The recovery point is held
/// to RPO_TARGET and RPO_MAX (<see cref="Configuration.RecoveryTargetOptions"/>).
/// </summary>
public sealed class CheckOptions
{
    /// <summary>The newest good full backup older than this is critical: a daily backup plus slack (the dead-man's switch uses the same 26 h).</summary>
    [ConfigurationKeyName("CHECK_BACKUP_MAX_AGE")]
    public TimeSpan BackupMaxAge { get; set; } = TimeSpan.FromHours(26);

    /// <summary>Replay lag of a standby past this is a warning; past RPO_TARGET it is critical (a failover would lose more than the plan allows).</summary>
    [ConfigurationKeyName("CHECK_REPLICATION_LAG_MAX")]
    public TimeSpan ReplicationLagMax { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Standbys that must be streaming from the primary; 0 (default) checks whatever streams.</summary>
    [ConfigurationKeyName("CHECK_EXPECTED_STANDBYS")]
    public int ExpectedStandbys { get; set; }

    /// <summary>WAL a replication slot may hold back before it is a warning (it fills the server's disk).</summary>
    [ConfigurationKeyName("CHECK_SLOT_RETAINED_MAX_BYTES")]
    public long SlotRetainedMaxBytes { get; set; } = 1L << 30;

    /// <summary>The disk the database lives on, in GiB (e.g. the managed server's storage size). Unset: the database-size check is not configured.</summary>
    [ConfigurationKeyName("DATABASE_CAPACITY_GB")]
    public double? DatabaseCapacityGb { get; set; }

    [ConfigurationKeyName("CHECK_DISK_WARNING_PERCENT")]
    public double DiskWarningPercent { get; set; } = 80;

    [ConfigurationKeyName("CHECK_DISK_CRITICAL_PERCENT")]
    public double DiskCriticalPercent { get; set; } = 90;

    /// <summary>The recent window whose failed workflow runs are counted.</summary>
    [ConfigurationKeyName("CHECK_ERROR_WINDOW")]
    public TimeSpan ErrorWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The period before the window that gives the usual failure rate.</summary>
    [ConfigurationKeyName("CHECK_ERROR_BASELINE")]
    public TimeSpan ErrorBaseline { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Fewer failures than this in the window are never "unusual".</summary>
    [ConfigurationKeyName("CHECK_ERROR_MIN_FAILURES")]
    public int ErrorMinFailures { get; set; } = 3;

    /// <summary>The window's failure rate must exceed the baseline's by this factor.</summary>
    [ConfigurationKeyName("CHECK_ERROR_FACTOR")]
    public double ErrorFactor { get; set; } = 2;
}

internal sealed class CheckOptionsValidator : IValidateOptions<CheckOptions>
{
    public ValidateOptionsResult Validate(string? name, CheckOptions o)
    {
        var failures = new List<string>();
        if (o.BackupMaxAge <= TimeSpan.Zero)
        {
            failures.Add("CHECK_BACKUP_MAX_AGE must be positive, e.g. 26:00:00");
        }
        if (o.ReplicationLagMax <= TimeSpan.Zero)
        {
            failures.Add("CHECK_REPLICATION_LAG_MAX must be positive, e.g. 00:05:00");
        }
        if (o.ExpectedStandbys is < 0 or > 100)
        {
            failures.Add("CHECK_EXPECTED_STANDBYS must be between 0 and 100");
        }
        if (o.SlotRetainedMaxBytes < 1)
        {
            failures.Add("CHECK_SLOT_RETAINED_MAX_BYTES must be positive");
        }
        if (o.DatabaseCapacityGb is { } capacity && !(capacity > 0 && double.IsFinite(capacity)))
        {
            failures.Add("DATABASE_CAPACITY_GB must be a positive number of GiB (or unset)");
        }
        if (!(o.DiskWarningPercent > 0 && o.DiskWarningPercent < o.DiskCriticalPercent && o.DiskCriticalPercent <= 100))
        {
            failures.Add("CHECK_DISK_WARNING_PERCENT must be above 0 and below CHECK_DISK_CRITICAL_PERCENT, which must be at most 100");
        }
        if (o.ErrorWindow <= TimeSpan.Zero || o.ErrorBaseline < o.ErrorWindow)
        {
            failures.Add("CHECK_ERROR_WINDOW must be positive and CHECK_ERROR_BASELINE at least as long");
        }
        if (o.ErrorMinFailures < 1)
        {
            failures.Add("CHECK_ERROR_MIN_FAILURES must be at least 1");
        }
        if (!(o.ErrorFactor >= 1 && double.IsFinite(o.ErrorFactor)))
        {
            failures.Add("CHECK_ERROR_FACTOR must be at least 1");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
