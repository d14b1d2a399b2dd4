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
            var requester = Environment.UserName;
            var approver = result.GetValue(approveAs)?.Trim();
            var atTerminal = !Console.IsInputRedirected && !Console.IsErrorRedirected;
            // Refused before any engine starts: nothing is isolated for a request that cannot go through.
            try
            {
                BreachSince.Parse(result.GetValue(since), DateTimeOffset.UtcNow);
                if (approver is { Length: 0 })
                {
                    throw new UsageException("--approve-as needs the approver's name");
                }
                if (approver is null && !atTerminal)
                {
                    throw new RefusedException("a breach recovery restores only after a second person approves: run it at a terminal or pass --approve-as <name>; nothing was changed");
                }
                if (approver is not null && Principals.Same(approver, requester))
                {
                    throw new RefusedException($"--approve-as must name someone other than you ({requester}); nothing was changed");
                }
            }
            catch (RecoveryException e)
            {
                return Task.FromResult(CliHost.Fail(e.Message, e.Kind));
            }
            return CliHost.RunAsync(async (services, token) =>
            {
                var input = new BreachRecoveryInput(result.GetValue(since), result.GetValue(reason) ?? "floyo-dr breach", requester, result.GetValue(drill), Retry: RetrySettings.Once);
                var id = await EmbeddedWorkflows.StartAsync(services, nameof(BreachRecoveryOrchestrator), input, EmbeddedWorkflows.NewInstanceId("breach"), token);
                var (report, stopped) = await FollowAsync(services, id, requester, approver, atTerminal, result.GetValue(gdpr), token);
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
        IServiceProvider services, string id, string requester, string? approver, bool atTerminal, bool gdprNotified, CancellationToken ct)
    {
        var client = services.GetRequiredService<DurableTaskClient>();
        var approvalSent = false;
        var acknowledged = false;
        while (true)
        {
            var state = await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct) ?? throw new RecoveryException($"breach recovery {id} vanished from the embedded engine");
            if (state.IsCompleted)
            {
                return (EmbeddedWorkflows.Output<BreachReport>(state, id), false);
            }
            var progress = state.SerializedCustomStatus is { } status ? JsonSerializer.Deserialize<BreachProgress>(status) : null;
            if (!approvalSent && progress is { Stage: BreachStages.AwaitingApproval })
            {
                var name = approver ?? (atTerminal ? await AskAsync(progress, requester, ct) : null);
                if (name is null || Principals.Same(name, requester))
                {
                    await TerminateAsync(client, id, "no approval given", ct);
                    throw new RefusedException($"the restore was not approved by someone other than {requester}; nothing was restored and {progress.Target} stays isolated. After investigating, reopen with: {progress.ReleaseSql}");
                }
                await client.RaiseEventAsync(id, BreachRecoveryOrchestrator.ApprovalEvent, new BreachApproval(name, "floyo-dr"), ct);
                approvalSent = true;
            }
            if (!acknowledged && progress is { Stage: BreachStages.AwaitingGdprNotification })
            {
                if (gdprNotified)
                {
                    await client.RaiseEventAsync(BreachRecoveryOrchestrator.RemindersInstanceId(id), GdprReminderOrchestrator.AcknowledgementEvent,
                        new GdprAcknowledgement(requester, "floyo-dr breach --gdpr-notified"), ct);
                    acknowledged = true;
                }
                else
                {
                    var report = await ReadRecordAsync(services, id, ct);
                    await TerminateAsync(client, id, "floyo-dr stops at the GDPR reminder", ct);
                    return (report, true);
                }
            }
            await Task.Delay(EmbeddedWorkflows.PollInterval, ct);
        }
    }

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

    private static async Task<string?> AskAsync(BreachProgress progress, string requester, CancellationToken ct)
    {
        Console.Error.WriteLine($"contained: {progress.Target} is isolated and the managed credentials are rotated.");
        Console.Error.WriteLine($"approval required: restore {progress.Backup?.Backup} (taken {At(progress.Backup?.Timestamp)}, the newest verified, non-anomalous backup before the breach) into {progress.Target}");
        foreach (var passed in progress.Backup?.PassedOver ?? [])
        {
            Console.Error.WriteLine($"  passed over: {passed}");
        }
        Console.Error.Write($"approver, someone other than {requester} (empty: do not restore, stay isolated): ");
        var line = await Console.In.ReadLineAsync(ct);
        return string.IsNullOrWhiteSpace(line) ? null : line.Trim();
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
