using System.CommandLine;
using Floyo.Recovery.AppData;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class AppDataCleanupCommand
{
    public static Command Create(string what, Func<AppDataRetention, bool, CancellationToken, Task<AppDataCleanup>> cleanup)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be deleted; delete nothing" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("cleanup", $"Expire old {what} (the newest is always kept; protected objects are never deleted)") { dryRun, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var outcome = await cleanup(services.GetRequiredService<AppDataRetention>(), result.GetValue(dryRun), token);
            if (result.GetValue(json))
            {
                Output.Json(outcome);
            }
            else
            {
                foreach (var name in outcome.Deleted)
                {
                    Console.WriteLine($"{(outcome.DryRun ? "would delete" : "deleted"),-12} {name}");
                }
                Console.WriteLine($"{outcome.Deleted.Count} {(outcome.DryRun ? "to delete (dry run: nothing deleted)" : "deleted")}, {outcome.Kept} kept");
            }
            return outcome.Failures.Count == 0 ? 0 : CliHost.Fail(string.Join("; ", outcome.Failures.Take(5)));
        }, ct));
        return command;
    }
}
