using System.Globalization;
using Floyo.Recovery.Configuration;

namespace Floyo.Recovery.Incidents;

/// <summary>The communication rules as times, for the workflow (replay-safe: everything comes from the record and the given time).</summary>
public sealed record CommunicationSchedule(TimeSpan FirstUpdateAfter, TimeSpan UpdateInterval, TimeSpan CustomerThreshold, TimeSpan PublicReportThreshold)
{
    public static CommunicationSchedule From(IncidentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.FirstUpdateAfter, options.UpdateInterval, options.CustomerThreshold, options.PublicReportThreshold);
    }
}

/// <summary>
/// Which steps of the plan are due for an incident at a given time, and when the next one falls due. Steps are
/// named so each is done once: <c>opened</c>, <c>change-N</c> (a person's update, told to the team),
/// <c>update-N</c> (the N-th stakeholder update; a late run sends only the newest one due), <c>status-page</c>
/// and <c>customer-email</c> (projected or actual RTO past the customer threshold), <c>public-report</c> (past
/// the public-report threshold), then <c>resolved</c> and <c>post-mortem</c>.
/// </summary>
public static class CommunicationPlan
{
    public const string Opened = "opened";
    public const string StatusPage = "status-page";
    public const string CustomerEmail = "customer-email";
    public const string PublicReport = "public-report";
    public const string Resolved = "resolved";
    public const string PostMortem = "post-mortem";

    public static string Update(int number) => $"update-{number.ToString(CultureInfo.InvariantCulture)}";

    public static string Change(int number) => $"change-{number.ToString(CultureInfo.InvariantCulture)}";

    public static IReadOnlyList<string> Due(IncidentRecord incident, DateTimeOffset now, CommunicationSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(schedule);
        var due = new List<string>();
        void Add(string step)
        {
            if (!incident.WasSent(step))
            {
                due.Add(step);
            }
        }
        Add(Opened);
        foreach (var change in incident.Changes.Where(c => !c.Resolves))
        {
            Add(Change(change.Number));
        }
        if (incident.Status == IncidentStatus.Open && UpdatesDue(incident.Elapsed(now), schedule) is > 0 and var number
            && !incident.Sent.Any(s => s.StartsWith("update-", StringComparison.Ordinal) && int.Parse(s[7..], CultureInfo.InvariantCulture) >= number))
        {
            due.Add(Update(number));
        }
        if (Past(incident, now, schedule.CustomerThreshold))
        {
            Add(StatusPage);
            Add(CustomerEmail);
        }
        if (Past(incident, now, schedule.PublicReportThreshold))
        {
            Add(PublicReport);
        }
        if (incident.Status == IncidentStatus.Resolved)
        {
            Add(Resolved);
            Add(PostMortem);
        }
        return due;
    }

    /// <summary>When the next step falls due by time alone (changes come as events); null once resolved.</summary>
    public static DateTimeOffset? NextDue(IncidentRecord incident, DateTimeOffset now, CommunicationSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(schedule);
        if (incident.Status == IncidentStatus.Resolved)
        {
            return null;
        }
        var number = UpdatesDue(incident.Elapsed(now), schedule);
        var next = incident.OpenedAt + schedule.FirstUpdateAfter + (schedule.UpdateInterval * number);
        foreach (var (step, threshold) in new[] { (CustomerEmail, schedule.CustomerThreshold), (PublicReport, schedule.PublicReportThreshold) })
        {
            var at = incident.OpenedAt + threshold;
            if (!incident.WasSent(step) && at > now && at < next)
            {
                next = at;
            }
        }
        return next;
    }

    /// <summary>The RTO "passes" a threshold: the time so far reached it, or the projection goes beyond it.</summary>
    public static bool Past(IncidentRecord incident, DateTimeOffset now, TimeSpan threshold)
    {
        ArgumentNullException.ThrowIfNull(incident);
        return incident.Elapsed(now) >= threshold || incident.ProjectedRto > threshold;
    }

    /// <summary>How many stakeholder updates are due by now: the first after FirstUpdateAfter, then one per interval.</summary>
    private static int UpdatesDue(TimeSpan elapsed, CommunicationSchedule schedule) =>
        elapsed < schedule.FirstUpdateAfter ? 0 : 1 + (int)((elapsed - schedule.FirstUpdateAfter).Ticks / schedule.UpdateInterval.Ticks);
}
