using System.CommandLine;
using Floyo.Recovery.Restores;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class RestoreCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The backup, by the name 'floyo-dr list' prints", Required = true };
        var drop = new Option<bool>("--drop-existing") { Description = "Replace the target database if it is not empty" };
        var target = new Option<string?>("--target-database") { Description = "Restore into this database on the same server (default: the database of DATABASE_URL)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var source = SourceOption.Create();
        var command = new Command("restore", "Restore a backup, checksum first, never over a database not named for replacement") { file, drop, target, source, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var request = new RestoreRequest(result.GetValue(file)!, result.GetValue(target), result.GetValue(drop));
            var restored = await SourceOption.Service<RestoreRunner>(services, SourceOption.Parse(result, source)).RunAsync(request, Output.Progress(), token);
            Output.EndProgress();
            if (result.GetValue(json))
            {
                Output.Json(restored);
            }
            else
            {
                Console.WriteLine($"restored {restored.Backup} into '{restored.TargetDatabase}' on {restored.Server} in {restored.DurationSeconds:F1} s{(restored.ReplacedExisting ? " (replaced the existing database)" : "")}");
                if (restored.CreatedRoles.Count > 0)
                {
                    Console.WriteLine($"created roles without passwords: {string.Join(", ", restored.CreatedRoles)}");
                }
            }
            return 0;
        }, ct));
        return command;
    }
}
