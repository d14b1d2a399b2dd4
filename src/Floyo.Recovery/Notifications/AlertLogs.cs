using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Notifications;

/// <summary>Monitoring events, EventIds 8800-8899. Azure Monitor's alert rules query these (infra/bicep/modules/monitoring.bicep).</summary>
public static partial class AlertLogs
{
    public const int FullBackupSucceededId = 8810;

    /// <summary>A full backup taken, checked (and verified when asked) and not suspect: the dead-man's switch counts these.</summary>
    [LoggerMessage(EventId = FullBackupSucceededId, EventName = "FullBackupSucceeded", Level = LogLevel.Information, Message = "Full backup {Backup} of {Database} succeeded")]
    public static partial void FullBackupSucceeded(this ILogger logger, string backup, string database);
}
