using Floyo.Recovery.Backups;
using System.CommandLine;
using System.Globalization;
using Floyo.Recovery;
using Floyo.Recovery.Drills;
using Floyo.Cli.Workflows;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class DrillCommand
{
    public static Command Create()
    {
        var scenario = new Option<string>("--scenario") { Description = $"One of: {string.Join(", ", DrillScenario.All)}" };
        var incident = new Option<string?>("--incident-time") { Description = "The declared incident time (ISO-8601, UTC); default: now" };
        var json = new Option<bool>("--json") { Description = "Print the drill result as JSON" };
        var command = new Command("drill", "Run a DR drill against staging (STAGING_DATABASE_URL) and measure RTO and RPO") { scenario, incident, json, History() };
        command.SetAction((result, ct) =>
        {
            // Refused before any engine starts: a bad scenario or time needs no server.
            string name;
            DateTimeOffset? incidentAt;
            try
            {
                name = DrillScenario.Parse(result.GetValue(scenario) ?? throw new UsageException($"say which drill to run: --scenario {string.Join("|", DrillScenario.All)}"));
                incidentAt = ParseTime(result.GetValue(incident));
                if (incidentAt > DateTimeOffset.UtcNow)
                {
                    throw new UsageException("the declared incident time is in the future");
                }
            }
            catch (RecoveryException e)
            {
                return Task.FromResult(CliHost.Fail(e.Message, e.Kind));
            }
            return CliHost.RunAsync(async (services, token) =>
            {
                var input = new DrillInput(name, incidentAt, "floyo-dr drill", RetrySettings.Once);
                var instance = EmbeddedWorkflows.NewInstanceId("drill");
                var report = await EmbeddedWorkflows.RunAsync<DrillInput, DrillReport>(services, nameof(DrillOrchestrator), input, instance, token);
                // Only with INCIDENT_ON_DRILL_FAILURE=true: a drill by hand opens no incident by default.
                var incident = report.Status == DrillStatus.Passed ? "" : await IncidentCommand.FollowRaisedAsync(services, instance, token);
                if (result.GetValue(json))
                {
                    Output.Json(report);
                }
                else
                {
                    Console.Write(DrillReportMarkdown.Render(report));
                }
                return report.Status == DrillStatus.Passed ? 0 : CliHost.Fail($"drill {report.Id} {report.Status}: {string.Join("; ", report.Failures)}{incident}");
            }, ct, workflows: true);
        });
        return command;
    }

    private static Command History()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array" };
        var command = new Command("history", "List past drills with their result, RTO and RPO") { json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var history = await services.GetRequiredService<DrillReports>().HistoryAsync(token);
            if (result.GetValue(json))
            {
                Output.Json(history.Select(r => new { r.Id, r.Scenario, r.Status, r.IncidentAt, r.FinishedAt, r.Backup, rtoSeconds = r.Rto?.TotalSeconds, rpoSeconds = r.Rpo?.TotalSeconds }));
                return 0;
            }
            Console.WriteLine($"{"ID",-45} {"STATUS",-13} {"RTO",10} {"RPO",10}  FINISHED");
            foreach (var r in history)
            {
                Console.WriteLine($"{r.Id,-45} {r.Status,-13} {Span(r.Rto),10} {Span(r.Rpo),10}  {BackupSummary.Iso(r.FinishedAt)}");
            }
            return 0;
        }, ct));
        return command;
    }

    internal static DateTimeOffset? ParseTime(string? value) =>
        value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
        : throw new UsageException($"'{value}' is not a time: use ISO-8601, e.g. 2026-11-26T09:30:00Z");

    private static string Span(TimeSpan? span) => span is { } s ? RecoveryMeasurement.Format(s) : "-";
}
