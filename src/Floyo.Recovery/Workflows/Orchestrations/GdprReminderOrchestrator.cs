using Floyo.Recovery.Breach;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// GDPR Art. 33: the supervisory authority must hear of a personal-data breach within 72 hours of the
/// controller becoming aware of it. Runs beside the breach recovery (a sub-orchestration started at
/// detection) and reminds on a durable timer, every BREACH_REMINDER_INTERVAL, until someone raises
/// <see cref="AcknowledgementEvent"/>; reminders turn critical in the last interval before the deadline
/// and stay critical, marked overdue, after it. An unattended drill sends one reminder and acknowledges it itself.
/// </summary>
public sealed class GdprReminderOrchestrator : TaskOrchestrator<GdprNotificationInput, GdprNotificationResult>
{
    public const string AcknowledgementEvent = "gdpr-notified";

    public override async Task<GdprNotificationResult> RunAsync(TaskOrchestrationContext context, GdprNotificationInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<GdprReminderOrchestrator>();
        var incident = input.Incident;
        var prefix = incident.Drill ? "[DRILL] " : "";
        DateTimeOffset Now() => new(context.CurrentUtcDateTime, TimeSpan.Zero);
        var breach = context.InstanceId.EndsWith("-gdpr", StringComparison.Ordinal) ? context.InstanceId[..^"-gdpr".Length] : context.InstanceId;

        // Acknowledged automatically only inside an unattended breach drill, never because an input says so.
        if (input.Unattended && context.Parent?.Name.Name == nameof(BreachRecoveryOrchestrator))
        {
            await WorkflowTasks.NotifyAsync(context, "reminder-1", NotificationSeverity.Info, $"{prefix}Incident {incident.Id}: GDPR notification reminder",
                $"Notify the supervisory authority by {BreachSince.Format(incident.NotifyBy)}. Drill: acknowledged automatically.", incident.Id);
            return new GdprNotificationResult(BreachRecoveryOrchestrator.DrillApprover, Now(), true, 1, "drill: acknowledged automatically");
        }

        var sent = 0;
        while (true)
        {
            context.SetCustomStatus(new { incidentId = incident.Id, notifyBy = incident.NotifyBy, remindersSent = sent, nextReminder = Now() + input.ReminderInterval });
            GdprAcknowledgement? ack = null;
            try
            {
                ack = await context.WaitForExternalEvent<GdprAcknowledgement>(AcknowledgementEvent, input.ReminderInterval);
            }
            catch (TaskCanceledException)
            {
                // The interval passed without an acknowledgement: remind.
            }
            if (ack is not null)
            {
                var by = ack.By?.Trim();
                if (!string.IsNullOrEmpty(by))
                {
                    logger.GdprAcknowledged(incident.Id, by, sent);
                    return new GdprNotificationResult(by, Now(), Now() <= incident.NotifyBy, sent, ack.Comment);
                }
                logger.GdprAcknowledgementIgnored(incident.Id, "an acknowledgement must name who notified the authority");
                continue;
            }
            sent++;
            var left = incident.NotifyBy - Now();
            var severity = left <= input.ReminderInterval ? NotificationSeverity.Critical : NotificationSeverity.Warning;
            await WorkflowTasks.NotifyAsync(context, $"reminder-{sent}", incident.Drill ? NotificationSeverity.Info : severity,
                $"{prefix}Incident {incident.Id}: GDPR notification {(left > TimeSpan.Zero ? "due" : "OVERDUE")}",
                left > TimeSpan.Zero
                    ? $"Notify the supervisory authority by {BreachSince.Format(incident.NotifyBy)} ({left.TotalHours:F1} h left), then acknowledge: POST /api/breaches/{breach}/gdpr-notified. Reminder {sent}."
                    : $"The 72 h deadline passed at {BreachSince.Format(incident.NotifyBy)}. Notify the supervisory authority now, with the reasons for the delay (Art. 33(1)), then acknowledge. Reminder {sent}.",
                incident.Id);
        }
    }
}
