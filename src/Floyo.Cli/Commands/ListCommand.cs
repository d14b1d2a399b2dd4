using System.CommandLine;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage.Secondary;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class ListCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array for scripts" };
        var source = SourceOption.Create();
        var command = new Command("list", "List complete backups, newest first, with the copies each one has") { source, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var catalog = SourceOption.Catalog(services, SourceOption.Parse(result, source));
            var entries = await catalog.ListAsync(token);
            var copies = services.GetRequiredService<CopyStatusReader>();
            var statuses = new List<CopyStatus>();
            foreach (var e in entries)
            {
                statuses.Add(await copies.StatusAsync(e, catalog.Store, token));
            }
            if (result.GetValue(json))
            {
                Output.Json(entries.Select((e, i) => BackupSummary.Of(e) with { Copies = statuses[i] }));
                return 0;
            }
            if (entries.Count == 0)
            {
                Console.WriteLine($"no backups in {catalog.Store.Location}");
                return 0;
            }
            Console.WriteLine($"{"NAME",-48} {"TYPE",-5} {"TIMESTAMP",-20} {"SIZE",10}  VERIFIED  {"SECONDARY",-14}  STATUS");
            for (var i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                var verified = e.LastVerification is null ? "never" : e.Verified ? "yes" : "FAILED";
                var status = !e.IsValid ? "INVALID: " + string.Join("; ", e.Problems)
                    : e.IsSuspect ? "SUSPECT: " + string.Join("; ", e.Metadata.Anomalies)
                    : e.LegalHold ? "ok, held" : "ok";
                Console.WriteLine($"{e.Name,-48} {e.Metadata.Type,-5} {BackupSummary.Iso(e.Metadata.Timestamp),-20} {Output.Size(e.Metadata.SizeBytes),10}  {verified,-8}  {statuses[i].Secondary,-14}  {status}");
            }
            return 0;
        }, ct));
        return command;
    }
}
