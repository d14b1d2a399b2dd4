using System.Globalization;
using System.Text;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Incidents;

/// <summary>
/// Does one step of the communication plan for an incident and marks it done, content from the incident's live
/// state (stage, elapsed time, projected RTO). Idempotent: a step already marked does nothing, and every
/// notification's id is the incident's and the step's, so a step retried after a crash sends nothing twice.
/// A channel that failed is told through the ones that worked; no failure of a channel fails the step.
/// </summary>
public sealed partial class IncidentCommunicator(
    IncidentBook book,
    INotifier notifier,
    StatusPagePoster statusPage,
    IBackupStore store,
    IOptions<IncidentOptions> options,
    TimeProvider clock,
    ILogger<IncidentCommunicator> logger)
{
    public async Task<IncidentEntry> RunAsync(string id, string step, DateTimeOffset at, CancellationToken ct)
    {
        var incident = await book.RequireAsync(id, ct);
        if (incident.WasSent(step))
        {
            return incident.Timeline.LastOrDefault(e => e.Step == step) ?? new IncidentEntry(at, step, "already done");
        }
        Func<IncidentRecord, IncidentRecord>? alter = null;
        string detail;
        switch (step)
        {
            case CommunicationPlan.Opened:
                detail = await NotifyAsync(incident, step, incident.Severity, NotificationAudience.Team, $"Incident opened: {incident.Title}",
                    $"{State(incident, at)}\nOpened by {incident.OpenedBy} ({incident.Source}).{(incident.Summary is { } s ? $" {s}" : "")}\n" +
                    $"Stakeholders hear within {IncidentBook.Format(options.Value.FirstUpdateAfter)}, then every {IncidentBook.Format(options.Value.UpdateInterval)} until resolved.", ct);
                break;
            case CommunicationPlan.StatusPage:
                var posted = await statusPage.PostAsync(incident.Title, "identified", CustomerText(incident, at), null, ct);
                detail = posted is null ? "not configured (INCIDENT_STATUSPAGE_URL)" : Describe([posted.Delivery]);
                if (posted is { Delivery.Delivered: false })
                {
                    await TellFailedAsync(incident, step, [posted.Delivery], ct);
                }
                alter = r => r with { StatusPageIncident = posted?.RemoteId };
                break;
            case CommunicationPlan.CustomerEmail:
                detail = await NotifyAsync(incident, step, NotificationSeverity.Info, NotificationAudience.Customers, $"Service disruption: {incident.Title}", CustomerText(incident, at), ct);
                break;
            case CommunicationPlan.PublicReport:
                var report = IncidentBook.PublicReportName(id);
                if (await store.GetAsync(report, ct) is null)
                {
                    await store.WriteAllAsync(report, Encoding.UTF8.GetBytes(IncidentReports.PublicReport(incident, at)), ObjectRetention.None, ct);
                }
                detail = $"drafted {report}; " + await NotifyAsync(incident, step, NotificationSeverity.Warning, NotificationAudience.Team,
                    $"Public incident report drafted: {incident.Title}", $"The RTO passed {IncidentBook.Format(options.Value.PublicReportThreshold)}: review and publish {report} from the backup store ({store.Location}).", ct);
                alter = r => r with { PublicReport = report };
                break;
            case CommunicationPlan.Resolved:
                detail = await ResolveAsync(incident, at, ct);
                break;
            case CommunicationPlan.PostMortem:
                var name = IncidentBook.PostMortemName(id);
                var final = incident with { Timeline = [.. incident.Timeline, new IncidentEntry(at, step, $"written to {name}")] };
                if (await store.GetAsync(name, ct) is null)
                {
                    await store.WriteAllAsync(name, Encoding.UTF8.GetBytes(IncidentReports.PostMortem(final, at, options.Value)), ObjectRetention.None, ct);
                }
                detail = $"written to {name}";
                alter = r => r with { PostMortem = name };
                break;
            default:
                detail = await NumberedAsync(incident, step, at, ct);
                break;
        }
        var entry = new IncidentEntry(at, step, detail);
        await book.MarkSentAsync(id, step, entry, alter, ct);
        LogStep(logger, id, step, detail);
        return entry;
    }

    private async Task<string> NumberedAsync(IncidentRecord incident, string step, DateTimeOffset at, CancellationToken ct)
    {
        var dash = step.LastIndexOf('-');
        if (dash < 0 || !int.TryParse(step.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new UsageException($"'{step}' is not a step of the communication plan");
        }
        if (step.StartsWith("update-", StringComparison.Ordinal))
        {
            return await NotifyAsync(incident, step, NotificationSeverity.Info, NotificationAudience.Stakeholders, $"Incident update {number}: {incident.Title}",
                $"{State(incident, at)}{(incident.Changes.LastOrDefault(c => c.Message is not null) is { } last ? $"\nLatest ({last.At.UtcDateTime:HH:mm} UTC, {last.By}): {last.Message}" : "")}\n" +
                $"Next update in {IncidentBook.Format(options.Value.UpdateInterval)} or when the incident is resolved.", ct);
        }
        if (step.StartsWith("change-", StringComparison.Ordinal) && incident.Changes.FirstOrDefault(c => c.Number == number) is { } change)
        {
            return await NotifyAsync(incident, step, NotificationSeverity.Info, NotificationAudience.Team, $"Incident update: {incident.Title}",
                $"{change.By}: {string.Join("; ", new[] { change.Stage is null ? null : $"stage {change.Stage}", change.ProjectedRto is { } p ? $"projected RTO {IncidentBook.Format(p)}" : null, change.Message }.Where(s => s is not null))}\n{State(incident, at)}", ct);
        }
        throw new UsageException($"'{step}' is not a step of the communication plan");
    }

    private async Task<string> ResolveAsync(IncidentRecord incident, DateTimeOffset at, CancellationToken ct)
    {
        var rto = incident.Elapsed(at);
        var text = $"Resolved after {IncidentBook.Format(rto)} (actual RTO): {incident.Resolution}";
        // The resolve follows the incident's own severity, so it reaches wherever the opening went (and closes the page).
        var parts = new List<string>
        {
            "team: " + await NotifyAsync(incident, CommunicationPlan.Resolved, incident.Severity, NotificationAudience.Team, incident.Title, text, ct, resolves: true),
            "stakeholders: " + await NotifyAsync(incident, "resolved-stakeholders", NotificationSeverity.Info, NotificationAudience.Stakeholders, $"Incident resolved: {incident.Title}", text, ct),
        };
        if (incident.WasSent(CommunicationPlan.CustomerEmail))
        {
            parts.Add("customers: " + await NotifyAsync(incident, "resolved-customers", NotificationSeverity.Info, NotificationAudience.Customers, $"Resolved: {incident.Title}",
                $"The disruption is over: service was restored at {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC. We are sorry for the trouble; a report follows.", ct));
        }
        if (incident.WasSent(CommunicationPlan.StatusPage))
        {
            var posted = await statusPage.PostAsync(incident.Title, "resolved", $"Resolved at {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC.", incident.StatusPageIncident, ct);
            parts.Add("status page: " + (posted is null ? "not configured" : Describe([posted.Delivery])));
        }
        return string.Join("; ", parts);
    }

    private async Task<string> NotifyAsync(IncidentRecord incident, string step, NotificationSeverity severity, NotificationAudience audience, string title, string text, CancellationToken ct, bool resolves = false)
    {
        var receipt = await notifier.NotifyAsync(new Notification($"{incident.Id}-{step}", severity, audience == NotificationAudience.Customers ? title : $"[{incident.Id}] {title}", text, clock.GetUtcNow(), incident.Id, resolves, audience), ct);
        await TellFailedAsync(incident, step, receipt.Deliveries, ct);
        return Describe(receipt.Deliveries);
    }

    /// <summary>A dead channel is itself news, told through the team's channels (its own id: told once).</summary>
    private async Task TellFailedAsync(IncidentRecord incident, string step, IReadOnlyList<ChannelDelivery> deliveries, CancellationToken ct)
    {
        var failed = deliveries.Where(d => !d.Delivered).ToList();
        if (failed.Count == 0)
        {
            return;
        }
        await notifier.NotifyAsync(new Notification($"{incident.Id}-{step}-channels", NotificationSeverity.Warning, $"Alert channel down: {string.Join(", ", failed.Select(f => f.Channel))}",
            $"Incident {incident.Id} step {step} did not reach {string.Join("; ", failed.Select(f => $"{f.Channel} ({f.Error})"))}. Check that channel's settings.", clock.GetUtcNow(), incident.Id), ct);
    }

    private string State(IncidentRecord incident, DateTimeOffset at) =>
        $"Stage: {incident.Stage}. Elapsed: {IncidentBook.Format(incident.Elapsed(at))}. Projected RTO: {(incident.ProjectedRto is { } p ? IncidentBook.Format(p) : "not yet estimated")}" +
        $"{(CommunicationPlan.Past(incident, at, options.Value.CustomerThreshold) ? $" (past {IncidentBook.Format(options.Value.CustomerThreshold)}: customers are told)" : "")}. Severity: {incident.Severity.ToString().ToLowerInvariant()}.";

    private static string CustomerText(IncidentRecord incident, DateTimeOffset at) =>
        $"We are recovering from a service disruption that began at {incident.OpenedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC ({incident.Title}). " +
        (incident.ProjectedRto is { } p ? $"We expect service back by {(incident.OpenedAt + p).UtcDateTime:yyyy-MM-dd HH:mm} UTC. " : "We will post an estimate as soon as we have one. ") +
        $"Current stage: {incident.Stage}. Updated {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC.";

    private static string Describe(IReadOnlyList<ChannelDelivery> deliveries) =>
        deliveries.Count == 0 ? "no channel configured (log and store only)" : string.Join(", ", deliveries.Select(d => d.Delivered ? d.Channel : $"{d.Channel} FAILED ({d.Error})"));

    [LoggerMessage(EventId = 9310, Level = LogLevel.Information, Message = "Incident {Id}: {Step}: {Detail}")]
    private static partial void LogStep(ILogger logger, string id, string step, string detail);
}
