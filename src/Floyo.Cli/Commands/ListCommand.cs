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
                Output.Json(entries.Select(Row));
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
                Console.WriteLine($"{e.Name,-48} {e.Metadata.Type,-5} {Output.Time(e.Metadata.Timestamp),-20} {Output.Size(e.Metadata.SizeBytes),10}  {verified,-8}  {status}");
            }
            return 0;
        }, ct));
        return command;
    }

    public static object Row(BackupEntry e) => new
    {
        name = e.Name,
        type = e.Metadata.Type,
        timestamp = Output.Time(e.Metadata.Timestamp),
        database = e.Metadata.Database,
        sizeBytes = e.Metadata.SizeBytes,
        compression = e.Metadata.Compression,
        sha256 = e.Metadata.Sha256,
        verified = e.Verified,
        verifiedAt = e.LastVerification?.Timestamp is { } at ? Output.Time(at) : null,
        valid = e.IsValid,
        problems = e.Problems,
        suspect = e.IsSuspect,
        anomalies = e.Metadata.Anomalies,
        acceptedBy = e.Acceptance?.AcceptedBy,
        legalHold = e.LegalHold,
    };

    public static object Row(BackupMetadata meta, bool verified) => new
    {
        name = meta.Name,
        type = meta.Type,
        timestamp = Output.Time(meta.Timestamp),
        database = meta.Database,
        sizeBytes = meta.SizeBytes,
        compression = meta.Compression,
        sha256 = meta.Sha256,
        verified,
    };
}
