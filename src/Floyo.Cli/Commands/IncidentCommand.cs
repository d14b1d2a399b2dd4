using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Floyo.Cli.Workflows;
using Floyo.Recovery;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary>
/// <c>floyo-dr incident open|update|resolve|show|watch</c>: the communication plan's incident. The state lives
/// in the backup store; each command writes its change there, then runs the communication orchestration on the
/// embedded engine, which sends whatever is due now (once: every step is marked in the store) and stops at the
/// next wait, printing when the next step falls due. <c>watch</c> (or <c>--watch</c>) keeps it running, timers
/// and all, until the incident is resolved; the Functions app runs it that way by itself.
/// </summary>
internal static class IncidentCommand
{
    public static Command Create()
    {
        var command = new Command("incident", "The communication plan for an incident: tell the team now, stakeholders hourly, customers past the RTO threshold, then the post-mortem");
        command.Subcommands.Add(Open());
        command.Subcommands.Add(Update());
        command.Subcommands.Add(Resolve());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Watch());
        return command;
    }

    private static Command Open()
    {
        var title = new Option<string>("--title") { Description = "What is wrong, in a few words (goes to every channel)", Required = true };
        var severity = new Option<string>("--severity") { Description = "critical (default: pages), warning or info", DefaultValueFactory = _ => "critical" };
        var stage = new Option<string>("--stage") { Description = "Where the response stands (e.g. investigating, restoring)", DefaultValueFactory = _ => "investigating" };
        var projected = new Option<string?>("--projected-rto") { Description = "Expected time from the start to recovery, e.g. 2h, 90m, 1d or 02:00:00" };
        var summary = new Option<string?>("--summary") { Description = "A sentence or two for the first message" };
        var watch = WatchOption();
        var json = JsonOption();
        var open = new Command("open", "Open an incident and notify the team at once") { title, severity, stage, projected, summary, watch, json };
        open.SetAction((result, ct) =>
        {
            NotificationSeverity level;
            TimeSpan? rto;
            try
            {
                level = ParseSeverity(result.GetValue(severity)!);
                rto = ParseDuration(result.GetValue(projected), "--projected-rto");
            }
            catch (RecoveryException e)
            {
                return Task.FromResult(CliHost.Fail(e.Message, e.Kind));
            }
            return CliHost.RunAsync(async (services, token) =>
            {
                var book = services.GetRequiredService<IncidentBook>();
                var incident = await book.OpenAsync(new IncidentOpening(result.GetValue(title)!, level, "floyo-dr incident open", Environment.UserName, result.GetValue(stage)!.Trim(), rto, result.GetValue(summary)), token);
                return await RunPlanAsync(services, incident.Id, result.GetValue(watch), result.GetValue(json), token);
            }, ct, workflows: true);
        });
        return open;
    }

    private static Command Update()
    {
        var id = IdArgument();
        var stage = new Option<string?>("--stage") { Description = "The new stage" };
        var message = new Option<string?>("--message") { Description = "What changed (goes to the team now and into the next stakeholder update)" };
        var projected = new Option<string?>("--projected-rto") { Description = "New expected time from the start to recovery (past the customer threshold: status page and customer email)" };
        var watch = WatchOption();
        var json = JsonOption();
        var update = new Command("update", "Record a change (stage, message, projected RTO) and send what is due") { id, stage, message, projected, watch, json };
        update.SetAction((result, ct) =>
        {
            TimeSpan? rto;
            try
            {
                rto = ParseDuration(result.GetValue(projected), "--projected-rto");
            }
            catch (RecoveryException e)
            {
                return Task.FromResult(CliHost.Fail(e.Message, e.Kind));
            }
            return CliHost.RunAsync(async (services, token) =>
            {
                var incident = IncidentBook.CheckId(result.GetValue(id));
                await services.GetRequiredService<IncidentBook>().ChangeAsync(incident, Environment.UserName, result.GetValue(stage), result.GetValue(message), rto, resolves: false, token);
                return await RunPlanAsync(services, incident, result.GetValue(watch), result.GetValue(json), token);
            }, ct, workflows: true);
        });
        return update;
    }

    private static Command Resolve()
    {
        var id = IdArgument();
        var message = new Option<string>("--message") { Description = "How it was resolved", Required = true };
        var json = JsonOption();
        var resolve = new Command("resolve", "Resolve the incident: close the page, tell everyone who was told, write the post-mortem") { id, message, json };
        resolve.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var incident = IncidentBook.CheckId(result.GetValue(id));
            await services.GetRequiredService<IncidentBook>().ChangeAsync(incident, Environment.UserName, null, result.GetValue(message), null, resolves: true, token);
            return await RunPlanAsync(services, incident, watch: true, result.GetValue(json), token);
        }, ct, workflows: true));
        return resolve;
    }

    private static Command Watch()
    {
        var id = IdArgument();
        var json = JsonOption();
        var watch = new Command("watch", "Keep the communication plan running (hourly updates, thresholds) until the incident is resolved") { id, json };
        watch.SetAction((result, ct) => CliHost.RunAsync(
            (services, token) => RunPlanAsync(services, IncidentBook.CheckId(result.GetValue(id)), watch: true, result.GetValue(json), token), ct, workflows: true));
        return watch;
    }

    private static Command Show()
    {
        var id = IdArgument();
        var json = JsonOption();
        var show = new Command("show", "Print the incident's state and timeline") { id, json };
        show.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var incident = await services.GetRequiredService<IncidentBook>().RequireAsync(IncidentBook.CheckId(result.GetValue(id)), token);
            if (result.GetValue(json))
            {
                Output.Json(incident);
            }
            else
            {
                Print(incident, null);
            }
            return 0;
        }, ct));
        return show;
    }

    /// <summary>Runs the orchestration until it waits (or, watching, until it ends), then prints the incident.</summary>
    private static async Task<int> RunPlanAsync(IServiceProvider services, string id, bool watch, bool json, CancellationToken ct)
    {
        var client = services.GetRequiredService<DurableTaskClient>();
        var instance = await EmbeddedWorkflows.StartAsync(services, nameof(IncidentCommunicationOrchestrator), new IncidentCommunicationInput(id), IncidentCommunicationOrchestrator.InstanceIdFor(id), ct);
        IncidentCommunicationStatus? waiting = null;
        while (true)
        {
            var state = await client.GetInstanceAsync(instance, getInputsAndOutputs: true, ct) ?? throw new RecoveryException($"incident workflow {instance} vanished from the embedded engine");
            if (state.IsCompleted)
            {
                EmbeddedWorkflows.Output<IncidentCommunicationResult>(state, instance);
                waiting = null;
                break;
            }
            var status = state.SerializedCustomStatus is { } s ? JsonSerializer.Deserialize<IncidentCommunicationStatus>(s) : null;
            if (!watch && status is { Phase: IncidentCommunicationOrchestrator.Waiting })
            {
                waiting = status;
                await client.TerminateInstanceAsync(instance, "floyo-dr stops at the next wait", ct);
                break;
            }
            await Task.Delay(EmbeddedWorkflows.PollInterval, ct);
        }
        var incident = await services.GetRequiredService<IncidentBook>().RequireAsync(id, ct);
        if (json)
        {
            Output.Json(new { incident, nextAt = waiting?.NextAt });
        }
        else
        {
            Print(incident, waiting);
        }
        return 0;
    }

    /// <summary>
    /// After a workflow of this command failed: the incident it opened (or recorded a repeat of its cause on) gets its
    /// plan caught up before the engine ends with the command (the opening sent, or the repeat told to the team).
    /// Returns what to append to the command's one-line error (empty when no incident was opened). Never throws:
    /// the workflow's own error is what the command reports.
    /// </summary>
    internal static async Task<string> FollowRaisedAsync(IServiceProvider services, string occurrence, CancellationToken ct)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(90));
            var book = services.GetRequiredService<IncidentBook>();
            if (await book.FindByOccurrenceAsync(occurrence, limit.Token) is not { } incident)
            {
                return "";
            }
            var client = services.GetRequiredService<DurableTaskClient>();
            var instance = IncidentCommunicationOrchestrator.InstanceIdFor(incident.Id);
            // The workflow started it (or raised the repeat into it) in this process; should that have failed, start it here.
            if (await client.GetInstanceAsync(instance, getInputsAndOutputs: false, limit.Token) is null or { IsCompleted: true })
            {
                await EmbeddedWorkflows.StartAsync(services, nameof(IncidentCommunicationOrchestrator), new IncidentCommunicationInput(incident.Id), instance, limit.Token);
            }
            while (true)
            {
                var state = await client.GetInstanceAsync(instance, getInputsAndOutputs: true, limit.Token);
                if (state is null or { IsCompleted: true })
                {
                    break;
                }
                if (state.SerializedCustomStatus is { } s && JsonSerializer.Deserialize<IncidentCommunicationStatus>(s) is { Phase: IncidentCommunicationOrchestrator.Waiting })
                {
                    await client.TerminateInstanceAsync(instance, "floyo-dr stops at the next wait", limit.Token);
                    break;
                }
                await Task.Delay(EmbeddedWorkflows.PollInterval, limit.Token);
            }
            var now = await book.RequireAsync(incident.Id, limit.Token);
            var opened = now.Occurrences?.FirstOrDefault() == occurrence;
            return $" (incident {now.Id} {(opened ? "opened" : "updated, open already")}; sent {(now.Sent.Count == 0 ? "nothing yet" : string.Join(", ", now.Sent))}; " +
                $"'floyo-dr incident watch {now.Id}' keeps its communication plan running)";
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return $" (its incident could not be followed up here: {e.Message.ReplaceLineEndings(" ")}; 'floyo-dr incident show' reads the store)";
        }
    }

    private static void Print(IncidentRecord incident, IncidentCommunicationStatus? waiting)
    {
        var now = DateTimeOffset.UtcNow;
        Console.WriteLine($"incident {incident.Id}: {incident.Title} ({incident.Severity.ToString().ToLowerInvariant()}, {(incident.Status == IncidentStatus.Resolved ? "resolved" : "open")})");
        Console.WriteLine($"  stage          {incident.Stage}");
        Console.WriteLine($"  opened         {At(incident.OpenedAt)} by {incident.OpenedBy}");
        Console.WriteLine($"  {(incident.ResolvedAt is null ? "elapsed      " : "actual RTO   ")}  {IncidentBook.Format(incident.Elapsed(now))}");
        Console.WriteLine($"  projected RTO  {(incident.ProjectedRto is { } p ? IncidentBook.Format(p) : "not estimated")}");
        Console.WriteLine($"  sent           {(incident.Sent.Count == 0 ? "nothing yet" : string.Join(", ", incident.Sent))}");
        if (incident.PublicReport is { } report)
        {
            Console.WriteLine($"  public report  {report} (draft)");
        }
        if (incident.PostMortem is { } postMortem)
        {
            Console.WriteLine($"  post-mortem    {postMortem}");
        }
        Console.WriteLine("  timeline");
        foreach (var e in incident.Timeline)
        {
            Console.WriteLine($"    {At(e.At)}  {e.Step,-16} {e.Detail}");
        }
        if (waiting?.NextAt is { } next)
        {
            Console.Error.WriteLine($"note: the next step falls due at {At(next)}. floyo-dr's workflow engine lives only as long as the command: " +
                $"run 'floyo-dr incident watch {incident.Id}' to keep it sending, or any 'incident update' then to catch up (the Functions app keeps it running by itself).");
        }
    }

    internal static NotificationSeverity ParseSeverity(string value) =>
        Enum.TryParse<NotificationSeverity>(value.Trim(), ignoreCase: true, out var level) && Enum.IsDefined(level)
            ? level
            : throw new UsageException($"--severity must be critical, warning or info, not '{value}'");

    internal static TimeSpan? ParseDuration(string? value, string option) => IncidentBook.ParseDuration(value, option);

    private static Argument<string> IdArgument() => new("id") { Description = "The incident's id, as 'incident open' printed it" };

    private static Option<bool> WatchOption() => new("--watch") { Description = "Keep running (hourly updates, thresholds) until the incident is resolved" };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the incident as JSON" };

    private static string At(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
