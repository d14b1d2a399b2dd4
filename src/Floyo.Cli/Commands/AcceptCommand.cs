using Floyo.Recovery.Backups;
using System.CommandLine;
using Floyo.Recovery.Anomalies;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class AcceptCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The flagged backup, by the name 'floyo-dr list' prints", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why the change is expected (recorded)", DefaultValueFactory = _ => "accepted by operator" };
        var command = new Command("accept", "Vouch for a backup flagged by anomaly detection, so it counts as good again") { file, reason };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var acceptance = await services.GetRequiredService<AcceptanceRecorder>().AcceptAsync(result.GetValue(file)!, Environment.UserName, result.GetValue(reason)!, token);
            Console.WriteLine($"accepted {acceptance.Backup} (by {acceptance.AcceptedBy} at {BackupSummary.Iso(acceptance.At)}: {acceptance.Reason})");
            return 0;
        }, ct));
        return command;
    }
}
