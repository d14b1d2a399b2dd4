using System.CommandLine;
using Floyo.Recovery;
using Floyo.Recovery.Drills;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class ReportCommand
{
    public static Command Create()
    {
        var latest = new Option<bool>("--latest") { Description = "The newest drill report" };
        var id = new Option<string?>("--id") { Description = "A drill id, as 'floyo-dr drill history' prints it" };
        var command = new Command("report", "Print a drill report (Markdown)") { latest, id };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var reports = services.GetRequiredService<DrillReports>();
            var wanted = result.GetValue(id);
            if (wanted is not null == result.GetValue(latest))
            {
                return CliHost.Fail("give exactly one of --latest or --id <id>", ErrorKind.Usage);
            }
            wanted ??= (await reports.HistoryAsync(token)).FirstOrDefault()?.Id ?? throw new NotFoundException("no drill has been run yet");
            Console.Write(await reports.MarkdownAsync(wanted, token));
            return 0;
        }, ct));
        return command;
    }
}
