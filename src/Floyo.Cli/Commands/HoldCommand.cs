using System.CommandLine;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class HoldCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The backup, by the name 'floyo-dr list' prints", Required = true };
        var release = new Option<bool>("--release") { Description = "Remove the legal hold instead of setting it" };
        var source = SourceOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("hold", "Put a backup under legal hold (evidence after a breach): it cannot be deleted, and retention skips it") { file, release, source, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var from = SourceOption.Parse(result, source);
            var catalog = SourceOption.Catalog(services, from);
            var entry = await catalog.FindAsync(result.GetValue(file)!, token);
            var hold = !result.GetValue(release);
            // Data and metadata together: a held backup must stay whole.
            await catalog.Store.SetLegalHoldAsync(entry.Name, hold, token);
            await catalog.Store.SetLegalHoldAsync(BackupName.MetadataOf(entry.Name), hold, token);
            if (result.GetValue(json))
            {
                Output.Json(new { backup = entry.Name, legalHold = hold, store = catalog.Store.Location });
            }
            else
            {
                Console.WriteLine(hold
                    ? $"legal hold set on {entry.Name} (data and metadata) in {catalog.Store.Location}; it cannot be deleted and cleanup skips it until released"
                    : $"legal hold released on {entry.Name}; retention applies again");
            }
            return 0;
        }, ct));
        return command;
    }
}
