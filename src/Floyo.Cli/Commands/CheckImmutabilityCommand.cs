using System.CommandLine;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class CheckImmutabilityCommand
{
    public static Command Create()
    {
        var source = SourceOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var command = new Command("check-immutability", "Write a canary, try to overwrite and delete it, and report whether the store really enforces WORM (exit 1 when it does not)") { source, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var store = services.GetRequiredService<BackupStores>().For(SourceOption.Parse(result, source));
            if (store is not BlobStore blob)
            {
                var message = $"immutability is NOT enforced: {store.Location} is a filesystem store, which cannot refuse deletes (use BACKUP_STORE=blob with an immutable container)";
                if (result.GetValue(json))
                {
                    Output.Json(new { location = store.Location, enforced = false, detail = message });
                }
                else
                {
                    Console.WriteLine(message);
                }
                return 1;
            }
            var report = await ImmutabilityProbe.CheckAsync(blob, services.GetRequiredService<TimeProvider>(), token);
            if (result.GetValue(json))
            {
                Output.Json(new { report.Location, report.Mode, report.ContainerReportsVersionLevelWorm, report.Enforced, report.Steps, report.Findings });
            }
            else
            {
                Console.WriteLine($"store {report.Location} (BACKUP_IMMUTABILITY_MODE={report.Mode}; container reports version-level immutability: {(report.ContainerReportsVersionLevelWorm ? "yes" : "no")})");
                foreach (var step in report.Steps)
                {
                    Console.WriteLine($"  {(step.Passed ? "ok  " : "FAIL")} {step.Check}: {step.Detail}");
                }
                foreach (var finding in report.Findings)
                {
                    Console.WriteLine($"  FINDING {finding}");
                }
                Console.WriteLine(report.Enforced
                    ? "immutability is enforced: backups written here cannot be overwritten or deleted before they expire"
                    : "immutability is NOT enforced: backups written here can be overwritten or deleted by anyone holding the storage credentials");
            }
            return report.Enforced ? 0 : 1;
        }, ct));
        return command;
    }
}
