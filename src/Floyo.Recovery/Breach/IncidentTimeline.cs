using System.Security.Cryptography;

namespace Floyo.Recovery.Breach;

/// <summary>One thing the breach workflow did or saw. Details name objects, roles and versions, never values.</summary>
public sealed record TimelineEntry(DateTimeOffset At, string Step, string Detail);

/// <summary>
/// Identifies one incident across every step, its evidence and its post-mortem. Passed between Durable
/// activities, so it holds only names and times.
/// </summary>
public sealed record Incident(string Id, DateTimeOffset Since, DateTimeOffset StartedAt, bool Drill)
{
    /// <summary>GDPR Art. 33: the supervisory authority is told within 72 hours of becoming aware.</summary>
    public static readonly TimeSpan NotificationDeadline = TimeSpan.FromHours(72);

    public DateTimeOffset NotifyBy => StartedAt + NotificationDeadline;

    public static string NewId(DateTimeOffset now) =>
        $"incident-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";

    /// <summary>Where this incident's evidence lives in the backup store.</summary>
    public string EvidencePrefix => $"evidence/{Id}/";

    public string IncidentPrefix => $"incidents/{Id}/";
}
