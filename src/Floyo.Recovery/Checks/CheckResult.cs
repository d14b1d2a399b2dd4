using System.Text.Json.Serialization;
using Floyo.Recovery.Notifications;

namespace Floyo.Recovery.Checks;

[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
public enum CheckStatus
{
    Ok,

    /// <summary>Something is wrong: raises the check's incident (<see cref="CheckResult.AlertKey"/>).</summary>
    Finding,

    /// <summary>The feature the check watches is not set up here; never an alert.</summary>
    NotConfigured,
}

/// <summary>
/// What one check found. <paramref name="Value"/> is the measured number the thresholds were held to (seconds,
/// bytes, percent or a count, named by <paramref name="Unit"/>), for scripts and the workbook.
/// </summary>
public sealed record CheckResult(string Check, CheckStatus Status, string Detail, NotificationSeverity? Severity = null, double? Value = null, string? Unit = null)
{
    public const string KeyPrefix = "check:";

    /// <summary>One incident per check: <c>check:&lt;name&gt;</c>.</summary>
    [JsonIgnore]
    public string AlertKey => KeyPrefix + Check;

    public static CheckResult Ok(string check, string detail, double? value = null, string? unit = null) => new(check, CheckStatus.Ok, detail, null, value, unit);

    public static CheckResult Finding(string check, NotificationSeverity severity, string detail, double? value = null, string? unit = null) =>
        new(check, CheckStatus.Finding, detail, severity, value, unit);

    public static CheckResult NotConfigured(string check, string detail) => new(check, CheckStatus.NotConfigured, detail);
}

/// <summary>Every check of one run.</summary>
public sealed record CheckReport(DateTimeOffset At, IReadOnlyList<CheckResult> Results)
{
    public bool HasFindings => Results.Any(r => r.Status == CheckStatus.Finding);
}

/// <summary>One health check. Reads only; a problem is a <see cref="CheckStatus.Finding"/>, not an exception.</summary>
public interface ICheck
{
    /// <summary>Short, stable, kebab-case: part of the incident's dedup key.</summary>
    string Name { get; }

    Task<CheckResult> RunAsync(CancellationToken ct);
}
