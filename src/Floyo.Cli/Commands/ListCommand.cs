using System.CommandLine;
using Floyo.Recovery.Backups;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class ListCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array for scripts" };
        var command = new Command("list", "List complete backups, newest first") { json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var entries = await services.GetRequiredService<BackupCatalog>().ListAsync(token);
            if (result.GetValue(json))
            {
                Output.Json(entries.Select(BackupSummary.Of));
                return 0;
            }
            if (entries.Count == 0)
            {
                Console.WriteLine($"no backups in {services.GetRequiredService<BackupCatalog>().Store.Location}");
                return 0;
            }
            Console.WriteLine($"{"NAME",-48} {"TYPE",-5} {"TIMESTAMP",-20} {"SIZE",10}  VERIFIED  STATUS");
            foreach (var e in entries)
            {
                var verified = e.LastVerification is null ? "never" : e.Verified ? "yes" : "FAILED";
                var status = !e.IsValid ? "INVALID: " + string.Join("; ", e.Problems)
                    : e.IsSuspect ? "SUSPECT: " + string.Join("; ", e.Metadata.Anomalies)
                    : e.LegalHold ? "ok, held" : "ok";
                Console.WriteLine($"{e.Name,-48} {e.Metadata.Type,-5} {BackupSummary.Iso(e.Metadata.Timestamp),-20} {Output.Size(e.Metadata.SizeBytes),10}  {verified,-8}  {status}");
            }
            return 0;
        }, ct));
        return command;
    }
}
