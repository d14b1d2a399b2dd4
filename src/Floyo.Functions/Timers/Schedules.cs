using Cronos;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Orchestrations;

namespace Floyo.Functions.Timers;

/// <summary>One timer: the app setting holding its NCRONTAB schedule, the plan's default, and what it starts.</summary>
public sealed record Schedule(string Function, string Setting, string Default, string Orchestrator, string InstancePrefix, string Purpose)
{
    /// <summary>The binding expression the trigger attribute uses; the Functions host requires the setting to exist.</summary>
    public string Binding => $"%{Setting}%";
}

/// <summary>
/// Every timer of the app. Each schedule is an app setting (six-field NCRONTAB, UTC, seconds first) so
/// operators can move it without a deployment; the defaults follow the DR plan and are also written in
/// local.settings.sample.json and the Bicep app settings, because a <c>%SETTING%</c> schedule must exist
/// for the host to start.
/// </summary>
public static class Schedules
{
    public const string FullBackupSetting = "SCHEDULE_FULL_BACKUP";
    public const string IncrementalBackupSetting = "SCHEDULE_INCREMENTAL_BACKUP";
    public const string ChecksumSweepSetting = "SCHEDULE_CHECKSUM_VERIFICATION";
    public const string RestoreTestSetting = "SCHEDULE_RESTORE_TEST";
    public const string DrDrillSetting = "SCHEDULE_DR_DRILL";
    public const string RetentionSetting = "SCHEDULE_RETENTION_CLEANUP";
    public const string FilesSnapshotSetting = "SCHEDULE_FILES_SNAPSHOT";
    public const string ConfigExportSetting = "SCHEDULE_CONFIG_EXPORT";
    public const string CredentialRotationSetting = "SCHEDULE_CREDENTIAL_ROTATION";
    public const string ChecksSetting = "SCHEDULE_CHECKS";
    public const string WalReceiveSetting = "SCHEDULE_WAL_RECEIVE";

    public static readonly Schedule FullBackup = new("FullBackupTimer", FullBackupSetting, "0 0 2 * * *", nameof(BackupOrchestrator), "full-backup", "full backup, daily 02:00 UTC");
    public static readonly Schedule IncrementalBackup = new("IncrementalBackupTimer", IncrementalBackupSetting, "0 0 */6 * * *", nameof(BackupOrchestrator), "incremental-backup", "incremental backup, every 6 hours");
    public static readonly Schedule ChecksumSweep = new("ChecksumVerificationTimer", ChecksumSweepSetting, "0 0 3 * * 0", nameof(ChecksumSweepOrchestrator), "checksum-verification", "checksum of every stored backup, weekly (Sunday 03:00)");
    public static readonly Schedule RestoreTest = new("RestoreTestTimer", RestoreTestSetting, "0 0 4 1 * *", nameof(RestoreTestOrchestrator), "restore-test", "restore test to staging, monthly (1st, 04:00)");
    public static readonly Schedule DrDrill = new("DrDrillTimer", DrDrillSetting, "0 0 5 1 1,4,7,10 *", nameof(DrDrillOrchestrator), "dr-drill", "DR drill, quarterly (1 Jan/Apr/Jul/Oct, 05:00)");
    public static readonly Schedule Retention = new("RetentionCleanupTimer", RetentionSetting, "0 30 4 * * *", nameof(RetentionCleanupOrchestrator), "retention-cleanup", "retention cleanup, daily 04:30");
    public static readonly Schedule FilesSnapshot = new("FilesSnapshotTimer", FilesSnapshotSetting, "0 0 1 * * *", nameof(FilesSnapshotOrchestrator), "files-snapshot", "uploaded-files snapshot, daily 01:00");
    public static readonly Schedule ConfigExport = new("ConfigExportTimer", ConfigExportSetting, "0 15 1 * * *", nameof(ConfigExportOrchestrator), "config-export", "configuration export, daily 01:15");

    /// <summary>Not slot-based: every rotation runs under one fixed instance id (see <see cref="Rotation.CredentialRotationStarter"/>).</summary>
    public static readonly Schedule CredentialRotation = new("CredentialRotationTimer", CredentialRotationSetting, "0 0 3 15 * *", nameof(RotationOrchestrator), Rotation.CredentialRotationStarter.InstanceId, "credential rotation, monthly (15th, 03:00)");

    /// <summary>Starts no orchestration: <see cref="ChecksTimer"/> runs the checks itself.</summary>
    public static readonly Schedule Checks = new("ChecksTimer", ChecksSetting, "0 */15 * * * *", "", "checks", "health checks and their incidents, every 15 minutes");

    /// <summary>Not an orchestration: the timer drains the pull-mode slot itself (see <see cref="WalReceiveTimer"/>).</summary>
    public static readonly Schedule WalReceive = new("WalReceiveTimer", WalReceiveSetting, "0 */5 * * * *", "", "wal-receive", "WAL pull mode (WAL_RECEIVE_SLOT), every 5 minutes");

    public static IReadOnlyList<Schedule> All { get; } = [FullBackup, IncrementalBackup, ChecksumSweep, RestoreTest, DrDrill, Retention, FilesSnapshot, ConfigExport, CredentialRotation, Checks, WalReceive];

    /// <summary>A timer that fires this much early still serves the slot it was meant for.</summary>
    private static readonly TimeSpan EarlyFireTolerance = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan[] SearchWindows = [TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(35), TimeSpan.FromDays(100), TimeSpan.FromDays(400)];

    public static CronExpression Parse(string expression, string setting)
    {
        try
        {
            return CronExpression.Parse(expression, CronFormat.IncludeSeconds);
        }
        catch (CronFormatException e)
        {
            throw new Recovery.ConfigurationException($"{setting} '{expression}' is not a six-field schedule (seconds minutes hours day month weekday): {e.Message}");
        }
    }

    /// <summary>
    /// The schedule slot a firing serves: the latest occurrence at or before <paramref name="now"/>. Every
    /// firing for one slot (a double fire, a second app instance, a late past-due run) gets the same slot.
    /// </summary>
    public static DateTimeOffset SlotFor(CronExpression schedule, DateTimeOffset now)
    {
        var probe = now.ToUniversalTime() + EarlyFireTolerance;
        foreach (var window in SearchWindows)
        {
            var last = schedule.GetOccurrences(probe - window, probe, TimeZoneInfo.Utc, fromInclusive: true, toInclusive: true).LastOrDefault();
            if (last != default)
            {
                return last;
            }
        }
        throw new Recovery.RecoveryException("the schedule has no occurrence in the last 400 days");
    }

    /// <summary><c>full-backup-20261126T020000Z</c>: the same id for every firing of one slot.</summary>
    public static string InstanceId(Schedule schedule, DateTimeOffset slot) =>
        $"{schedule.InstancePrefix}-{slot.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}";
}
