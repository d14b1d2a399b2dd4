using System.CommandLine;
using Floyo.Recovery.Checks;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary><c>floyo-dr check [--json] [--alert]</c>: the health checks the Functions app runs on its timer.</summary>
internal static class CheckCommand
{
    /// <summary>Exit code when at least one check has a finding (0: all pass or are not configured).</summary>
    public const int FindingExitCode = 8;

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var alert = new Option<bool>("--alert") { Description = "Raise an incident per finding (check:<name>) and resolve those that pass again, as the Functions timer does" };
        var command = new Command("check", $"Check backup age, recovery point, the WAL copies' lag, replication, disk space and error rate against their thresholds (exit {FindingExitCode} when any finds a problem)") { json, alert };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var report = await services.GetRequiredService<CheckRunner>().RunAsync(token);
            if (result.GetValue(alert))
            {
                await services.GetRequiredService<CheckAlerter>().ApplyAsync(report, token);
            }
            if (result.GetValue(json))
            {
                Output.Json(new { report.At, findings = report.HasFindings, checks = report.Results });
            }
            else
            {
                foreach (var r in report.Results)
                {
                    var status = r.Status switch
                    {
                        CheckStatus.Ok => "ok  ",
                        CheckStatus.NotConfigured => "n/c ",
                        _ => r.Severity == Recovery.Notifications.NotificationSeverity.Critical ? "CRIT" : "WARN",
                    };
                    Console.WriteLine($"{status} {r.Check,-18} {r.Detail}");
                }
                var findings = report.Results.Count(r => r.Status == CheckStatus.Finding);
                Console.WriteLine(findings == 0 ? "all checks pass (or are not configured)" : $"{findings} check(s) found a problem");
            }
            return report.HasFindings ? FindingExitCode : 0;
        }, ct));
        return command;
    }
}
