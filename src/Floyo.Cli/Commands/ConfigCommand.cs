using System.CommandLine;
using Floyo.Recovery.AppData;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class ConfigCommand
{
    public static Command Create() => new("config", "The application's configuration (setting names, non-secret values, host.json, schedules)")
    {
        Export(),
        AppDataCleanupCommand.Create("configuration exports (CONFIG_RETENTION_DAYS)", (r, dry, ct) => r.CleanupConfigAsync(dry, ct)),
    };

    private static Command Export()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the export instead of storing it" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("export", "Export the configuration into the backup store; secret values are never exported, only where they come from") { dryRun, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var exporter = services.GetRequiredService<ConfigExporter>();
            if (result.GetValue(dryRun))
            {
                Output.Json(exporter.Build());
                return 0;
            }
            var exported = await exporter.ExportAsync(token);
            if (result.GetValue(json))
            {
                Output.Json(exported);
            }
            else
            {
                Console.WriteLine($"configuration exported to {exported.Name}: {exported.Settings} settings, {exported.Secrets} secret (names only, {exported.KeyVaultReferences} from Key Vault), host.json {(exported.HostJson ? "included" : "not found")}");
            }
            return 0;
        }, ct));
        return command;
    }
}
