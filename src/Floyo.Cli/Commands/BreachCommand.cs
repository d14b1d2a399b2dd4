using System.CommandLine;
using System.Text.Json;
using Floyo.Cli.Workflows;
using Floyo.Recovery;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Cli.Commands;

/// <summary>
/// <c>floyo-dr breach --since &lt;time&gt;</c>: the breach-recovery workflow on the embedded Durable host.
/// Approval comes from --approve-as or the terminal, as for restores. The embedded engine lives only as long
/// as the command, so it cannot remind anyone of the GDPR deadline after it exits: with --gdpr-notified the
/// operator states the authority has been notified and the workflow completes; without it the command stops
/// after the post-mortem, prints the deadline and the reminder times, and says so.
/// </summary>
internal static class BreachCommand
{
    public static Command Create()
    {
        var since = new Option<string>("--since") { Description = "When the breach is believed to have started, ISO 8601 with a zone (e.g. 2026-03-01T14:00:00Z)", Required = true };
        var reason = new Option<string?>("--reason") { Description = "What was seen (kept in the timeline and the post-mortem)" };
        var approveAs = new Option<string?>("--approve-as") { Description = "The second person approving the restore of the chosen backup" };
        var drill = new Option<bool>("--drill") { Description = "Run against staging (STAGING_DATABASE_URL): production is not touched, credentials are only named" };
        var gdpr = new Option<bool>("--gdpr-notified") { Description = "The supervisory authority has been notified (GDPR Art. 33): complete the workflow instead of stopping at the reminder" };
        var json = new Option<bool>("--json") { Description = "Print the breach report as JSON" };
        var command = new Command("breach", "Recover from a security breach: isolate, preserve evidence, rotate credentials, restore the newest clean backup after approval, write the post-mortem")
        {
            since, reason, approveAs, drill, gdpr, json,
        };
        command.SetAction((result, ct) =>
        {
            var approval = ApprovalPrompt.FromConsole(result.GetValue(approveAs));
            var requester = approval.Requester;
            // Refused before any engine starts: nothing is isolated for a request that cannot go through.
            try
            {
                BreachSince.Parse(result.GetValue(since), DateTimeOffset.UtcNow);
                approval.Check(approvalRequired: true, "a breach recovery restores only after a second person approves");
            }
            catch (RecoveryException e)
            {
                return Task.FromResult(CliHost.Fail(e.Message, e.Kind));
            }
            return CliHost.RunAsync(async (services, token) =>
            {
                var input = new BreachRecoveryInput(result.GetValue(since), result.GetValue(reason) ?? "floyo-dr breach", requester, result.GetValue(drill), Retry: RetrySettings.Once);
                var id = await EmbeddedWorkflows.StartAsync(services, nameof(BreachRecoveryOrchestrator), input, EmbeddedWorkflows.NewInstanceId("breach"), token);
                var (report, stopped) = await FollowAsync(services, id, approval, result.GetValue(gdpr), token);
                if (result.GetValue(json))
                {
                    Output.Json(report);
                }
                else
                {
                    Print(report);
                }
                if (stopped)
                {
                    PrintGdprNote(report, services.GetRequiredService<IOptions<BreachOptions>>().Value.ReminderInterval);
                }
                return report.Outcome == BreachOutcome.Recovered
                    ? 0
                    : CliHost.Fail($"{report.Error ?? report.Outcome.ToString()}{(report.ReleaseSql is { } sql && !report.WritesResumed && !sql.StartsWith("--", StringComparison.Ordinal) ? $"; after investigating, reopen with: {sql}" : "")}");
            }, ct, workflows: true);
        });
        return command;
    }

    /// <summary>Follows the workflow: approves when it waits for approval, and at the GDPR wait acknowledges (--gdpr-notified) or stops.</summary>
    private static async Task<(BreachReport Report, bool Stopped)> FollowAsync(
        IServiceProvider services, string id, ApprovalPrompt approval, bool gdprNotified, CancellationToken ct)
    {
        var client = services.GetRequiredService<DurableTaskClient>();
        var acknowledged = false;
        var stopped = false;
        var report = await approval.FollowAsync<BreachProgress, BreachReport>(client, id, AtApproval, (why, token) => TerminateAsync(client, id, why, token),
            async (progress, token) =>
            {
                if (acknowledged || progress.Stage != BreachStages.AwaitingGdprNotification)
                {
                    return null;
                }
                if (gdprNotified)
                {
                    await client.RaiseEventAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), GdprReminderOrchestrator.AcknowledgementEvent,
                        new GdprAcknowledgement(approval.Requester, "floyo-dr breach --gdpr-notified"), token);
                    acknowledged = true;
                    return null;
                }
                var recorded = await ReadRecordAsync(services, id, token);
                await TerminateAsync(client, id, "floyo-dr stops at the GDPR reminder", token);
                stopped = true;
                return recorded;
            }, ct);
        return (report, stopped);
    }

    /// <summary>The recovery at its approval gate, as the prompt shows it; null at any other stage.</summary>
    private static ApprovalWait? AtApproval(BreachProgress progress) => progress.Stage != BreachStages.AwaitingApproval ? null : new ApprovalWait(false,
        [
            $"contained: {progress.Target} is isolated and the managed credentials are rotated.",
            $"approval required: restore {progress.Backup?.Backup} (taken {At(progress.Backup?.Timestamp)}, the newest verified, non-anomalous backup before the breach) into {progress.Target}",
            .. (progress.Backup?.PassedOver ?? []).Select(passed => $"  passed over: {passed}"),
        ],
        "do not restore, stay isolated",
        $"the restore was not approved by someone other than {progress.RequestedBy}; nothing was restored and {progress.Target} stays isolated. After investigating, reopen with: {progress.ReleaseSql}");

    /// <summary>The report the workflow recorded before it began waiting for the GDPR acknowledgement.</summary>
    private static async Task<BreachReport> ReadRecordAsync(IServiceProvider services, string id, CancellationToken ct)
    {
        var store = services.GetRequiredService<IBackupStore>();
        await using var stream = await store.OpenReadAsync(RecordRunActivity.NameFor(BreachRecoveryOrchestrator.RecordName, id), ct);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        return document.RootElement.GetProperty("result").Deserialize<BreachReport>(Recovery.Backups.Json.Options)
            ?? throw new RecoveryException($"the record of breach recovery {id} is empty");
    }

    private static async Task TerminateAsync(DurableTaskClient client, string id, string why, CancellationToken ct)
    {
        foreach (var instance in new[] { BreachRecoveryOrchestrator.RemindersInstanceId(id), id })
        {
            if (await client.GetInstanceAsync(instance, ct) is { IsCompleted: false })
            {
                await client.TerminateInstanceAsync(instance, why, ct);
            }
        }
    }

    private static void Print(BreachReport r)
    {
        Console.WriteLine($"{(r.Drill ? "drill " : "")}incident {r.IncidentId}: {r.Outcome switch { BreachOutcome.Recovered => "recovered", BreachOutcome.ApprovalTimedOut => "NOT RESTORED (no approval in time), still isolated", _ => "FAILED, still isolated" }}");
        Console.WriteLine($"  target        {r.Target}");
        Console.WriteLine($"  breach since  {At(r.Since)}");
        Console.WriteLine($"  clean backup  {r.Backup.Backup} (taken {At(r.Backup.Timestamp)}){(r.Restored is null ? ", not restored" : $", restored in {r.Restored.DurationSeconds:F1} s, approved by {r.ApprovedBy}")}");
        if (r.Isolation is { } i)
        {
            Console.WriteLine($"  isolation     {(i.Record.Skipped ? "off (BREACH_ISOLATE=false)" : $"{i.SessionsEnded} sessions ended; {(r.WritesResumed ? "access given back" : "STILL ISOLATED")}")}");
        }
        if (r.Credentials is { } c)
        {
            Console.WriteLine($"  credentials   {(c.Rehearsed ? "drill: named only" : c.Rotated.Count == 0 ? "none rotated" : "rotated " + string.Join(", ", c.Rotated.Select(o => $"{o.Secret} (version {o.NewVersion})")))}");
        }
        Console.WriteLine($"  evidence      {string.Join(", ", r.Evidence.Select(e => $"evidence/{e.IncidentId}/{e.CaptureId}/"))}");
        Console.WriteLine($"  post-mortem   {r.PostMortem ?? "not written"}");
        Console.WriteLine($"  GDPR          notify the supervisory authority by {At(r.NotifyBy)}{(r.Gdpr is { } g ? $"; acknowledged by {g.AcknowledgedBy}" : "")}");
        Console.WriteLine($"  took          {r.RecoverySeconds:F1} s from detection to {(r.WritesResumed ? "verified service" : "the end of the recovery")}");
    }

    /// <summary>The reminders a long-running host would send, so a person can set them: every interval until the deadline.</summary>
    private static void PrintGdprNote(BreachReport r, TimeSpan interval)
    {
        var times = new List<string>();
        for (var at = r.StartedAt + interval; at < r.NotifyBy && times.Count < 12; at += interval)
        {
            times.Add(At(at));
        }
        Console.Error.WriteLine($"note: the GDPR notification to the supervisory authority is due by {At(r.NotifyBy)} (72 h after detection). " +
            "floyo-dr's workflow engine lives only as long as this command, so it will not remind you: set reminders " +
            $"(the Functions app would remind at {string.Join(", ", times)}), and once notified record it in the post-mortem ({r.PostMortem}), " +
            "or run the breach workflow over HTTP, which keeps reminding until POST /api/breaches/<id>/gdpr-notified.");
    }

    private static string At(DateTimeOffset? at) => at is { } t ? BreachSince.Format(t) : "?";
}
