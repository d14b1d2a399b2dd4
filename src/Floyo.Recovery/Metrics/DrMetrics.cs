using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Floyo.Recovery.Metrics;

/// <summary>
/// The "Floyo.DR" meter: what a backup, a restore and a drill measured, recorded where each finishes. The
/// Functions app exports it to Application Insights (customMetrics / AppMetrics, name = the instrument's);
/// floyo-dr records into it too, where nobody listens unless a MeterListener (dotnet-counters, a test) does.
/// One static meter: the instruments are process-wide, cost nothing without a listener, and need no plumbing
/// through the engine's constructors.
/// </summary>
public static class DrMetrics
{
    public const string MeterName = "Floyo.DR";

    public const string BackupDurationName = "floyo.dr.backup.duration";
    public const string BackupSizeName = "floyo.dr.backup.size";
    public const string BackupCompressionRatioName = "floyo.dr.backup.compression_ratio";
    public const string RecoveryPointAgeName = "floyo.dr.recovery_point.age";
    public const string DrillRtoName = "floyo.dr.drill.rto";
    public const string DrillRpoName = "floyo.dr.drill.rpo";
    public const string RestoreDurationName = "floyo.dr.restore.duration";

    private static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly Histogram<double> BackupDuration = Meter.CreateHistogram<double>(BackupDurationName, "s", "Time to take one backup (dump, compress, hash, store)");
    private static readonly Histogram<long> BackupSize = Meter.CreateHistogram<long>(BackupSizeName, "By", "Bytes one backup occupies in the store");
    private static readonly Histogram<double> BackupCompressionRatio = Meter.CreateHistogram<double>(BackupCompressionRatioName, "1", "Dump bytes per stored byte");
    private static readonly Gauge<double> RecoveryPointAge = Meter.CreateGauge<double>(RecoveryPointAgeName, "s", "How old the newest recoverable point is, when it was checked");
    private static readonly Histogram<double> DrillRto = Meter.CreateHistogram<double>(DrillRtoName, "s", "Recovery time a drill measured (incident to service restored)");
    private static readonly Histogram<double> DrillRpo = Meter.CreateHistogram<double>(DrillRpoName, "s", "Data a drill's recovery lost (incident to the restored point)");
    private static readonly Histogram<double> RestoreDuration = Meter.CreateHistogram<double>(RestoreDurationName, "s", "Time to restore one backup into its target");

    /// <param name="kind">full, base or incremental.</param>
    public static void RecordBackup(string database, string kind, TimeSpan duration, long storedBytes, long sourceBytes)
    {
        var tags = new TagList { { "database", database }, { "kind", kind } };
        BackupDuration.Record(duration.TotalSeconds, tags);
        BackupSize.Record(storedBytes, tags);
        if (storedBytes > 0 && sourceBytes > 0)
        {
            BackupCompressionRatio.Record((double)sourceBytes / storedBytes, tags);
        }
    }

    /// <param name="source">wal or dump: what the recovery point rests on.</param>
    public static void RecordRecoveryPointAge(TimeSpan age, string source) =>
        RecoveryPointAge.Record(Math.Max(0, age.TotalSeconds), new KeyValuePair<string, object?>("source", source));

    /// <summary>A drill's measurements; either may be missing when the drill failed before it could measure.</summary>
    public static void RecordDrill(string scenario, string status, TimeSpan? rto, TimeSpan? rpo)
    {
        var tags = new TagList { { "scenario", scenario }, { "status", status } };
        if (rto is { } r)
        {
            DrillRto.Record(r.TotalSeconds, tags);
        }
        if (rpo is { } p)
        {
            DrillRpo.Record(p.TotalSeconds, tags);
        }
    }

    /// <param name="kind">full (a dump into a database) or pitr (a cluster to a point in time).</param>
    public static void RecordRestore(string database, string kind, TimeSpan duration) =>
        RestoreDuration.Record(duration.TotalSeconds, new TagList { { "database", database }, { "kind", kind } });
}
