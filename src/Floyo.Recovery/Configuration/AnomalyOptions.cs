using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.Configuration;

/// <summary>How sharp a change between consecutive good backups must be to flag the newer one.</summary>
public sealed class AnomalyOptions
{
    /// <summary>A table that keeps less than this fraction of its rows is flagged.</summary>
    [ConfigurationKeyName("ANOMALY_ROW_DROP_RATIO")]
    public double RowDropRatio { get; set; } = 0.5;

    /// <summary>Tables smaller than this in the baseline are not judged: a few rows more or less is noise.</summary>
    [ConfigurationKeyName("ANOMALY_MIN_ROWS")]
    public long MinRows { get; set; } = 100;

    /// <summary>A dump that shrinks below this fraction of the baseline's is flagged.</summary>
    [ConfigurationKeyName("ANOMALY_SIZE_DROP_RATIO")]
    public double SizeDropRatio { get; set; } = 0.5;
}
