using System.Diagnostics.Metrics;
using Floyo.Recovery.Metrics;

namespace Floyo.Recovery.Tests.Metrics;

/// <summary>Records what the Floyo.DR meter publishes, as any listener (the Azure Monitor exporter, dotnet-counters) sees it.</summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, string? Unit, double Value, Dictionary<string, object?> Tags)> _measurements = [];

    public MeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DrMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }
        lock (_measurements)
        {
            _measurements.Add((instrument.Name, instrument.Unit, value, copy));
        }
    }

    /// <summary>Measurements of <paramref name="instrument"/> whose <paramref name="tag"/> is <paramref name="value"/> (tests run in parallel: each filters on its own).</summary>
    public List<(double Value, string? Unit, Dictionary<string, object?> Tags)> Of(string instrument, string tag, string value)
    {
        lock (_measurements)
        {
            return [.. _measurements.Where(m => m.Instrument == instrument && m.Tags.TryGetValue(tag, out var v) && (v as string) == value).Select(m => (m.Value, m.Unit, m.Tags))];
        }
    }

    public void Dispose() => _listener.Dispose();
}

[Trait("Tier", "Fast")]
public sealed class DrMetricsTests
{
    [Fact]
    public void A_backup_records_its_duration_size_and_compression_ratio_tagged_with_database_and_kind()
    {
        using var recorder = new MeterRecorder();
        var database = $"metrics_{Guid.NewGuid():N}";

        DrMetrics.RecordBackup(database, "full", TimeSpan.FromSeconds(12.5), storedBytes: 1000, sourceBytes: 3500);

        var duration = Assert.Single(recorder.Of(DrMetrics.BackupDurationName, "database", database));
        Assert.Equal(12.5, duration.Value);
        Assert.Equal("s", duration.Unit);
        Assert.Equal("full", duration.Tags["kind"]);
        var size = Assert.Single(recorder.Of(DrMetrics.BackupSizeName, "database", database));
        Assert.Equal(1000, size.Value);
        Assert.Equal("By", size.Unit);
        Assert.Equal(3.5, Assert.Single(recorder.Of(DrMetrics.BackupCompressionRatioName, "database", database)).Value);
    }

    [Fact]
    public void An_empty_backup_records_no_ratio_rather_than_a_division_by_zero()
    {
        using var recorder = new MeterRecorder();
        var database = $"metrics_{Guid.NewGuid():N}";
        DrMetrics.RecordBackup(database, "base", TimeSpan.FromSeconds(1), storedBytes: 0, sourceBytes: 0);
        Assert.Single(recorder.Of(DrMetrics.BackupDurationName, "database", database));
        Assert.Empty(recorder.Of(DrMetrics.BackupCompressionRatioName, "database", database));
    }

    [Fact]
    public void Drills_restores_and_the_recovery_point_record_seconds()
    {
        using var recorder = new MeterRecorder();
        var scenario = $"scenario-{Guid.NewGuid():N}";
        var database = $"metrics_{Guid.NewGuid():N}";
        var source = $"src-{Guid.NewGuid():N}";

        DrMetrics.RecordDrill(scenario, "passed", TimeSpan.FromMinutes(3), TimeSpan.FromHours(2));
        DrMetrics.RecordDrill(scenario, "failed", null, null);
        DrMetrics.RecordRestore(database, "full", TimeSpan.FromSeconds(42));
        DrMetrics.RecordRecoveryPointAge(TimeSpan.FromMinutes(-1), source); // a clock skew is never a negative age
        DrMetrics.RecordRecoveryPointAge(TimeSpan.FromMinutes(30), source);

        var rto = Assert.Single(recorder.Of(DrMetrics.DrillRtoName, "scenario", scenario));
        Assert.Equal(180, rto.Value);
        Assert.Equal("passed", rto.Tags["status"]);
        Assert.Equal(7200, Assert.Single(recorder.Of(DrMetrics.DrillRpoName, "scenario", scenario)).Value);
        Assert.Equal(42, Assert.Single(recorder.Of(DrMetrics.RestoreDurationName, "database", database)).Value);
        Assert.Equal([0, 1800], recorder.Of(DrMetrics.RecoveryPointAgeName, "source", source).Select(m => m.Value));
    }
}
