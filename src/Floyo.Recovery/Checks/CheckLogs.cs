using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Checks;

/// <summary>Health-check events, EventIds 9200-9219. The workbook (infra/bicep/modules/workbook.bicep) counts <see cref="CheckFindingId"/> among the failures.</summary>
internal static partial class CheckLogs
{
    public const int CheckResultId = 9200;

    public const int CheckFindingId = 9201;

    /// <summary>One per check per run, with the measured value: the workbook charts these.</summary>
    [LoggerMessage(EventId = CheckResultId, EventName = "CheckResult", Level = LogLevel.Information, Message = "Check {Check}: {Status} ({Severity}) {Value} {Unit}: {Detail}")]
    public static partial void CheckResult(this ILogger logger, string check, string status, string severity, double? value, string unit, string detail);

    [LoggerMessage(EventId = CheckFindingId, EventName = "CheckFinding", Level = LogLevel.Warning, Message = "Check {Check} found a problem ({Severity}): {Detail}")]
    public static partial void CheckFinding(this ILogger logger, string check, string severity, string detail);

    [LoggerMessage(EventId = 9202, EventName = "CheckCouldNotRun", Level = LogLevel.Warning, Message = "Check {Check} could not run: {Error}")]
    public static partial void CheckCouldNotRun(this ILogger logger, string check, string error, Exception exception);

    [LoggerMessage(EventId = 9203, EventName = "ChecksFinished", Level = LogLevel.Information, Message = "Checks finished: {Ok} ok, {Findings} findings, {NotConfigured} not configured")]
    public static partial void ChecksFinished(this ILogger logger, int ok, int findings, int notConfigured);
}
