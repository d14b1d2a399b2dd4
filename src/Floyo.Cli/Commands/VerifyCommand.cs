using System.CommandLine;
using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class VerifyCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "The backup, by the name 'floyo-dr list' prints" };
        var latest = new Option<bool>("--latest") { Description = "Verify the newest good backup (not flagged by anomaly detection)" };
        var json = new Option<bool>("--json") { Description = "Print the verification record as JSON" };
        var source = SourceOption.Create();
        var command = new Command("verify", "Checksum, restore into a scratch database, and compare counts with the backup") { file, latest, source, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var from = SourceOption.Parse(result, source);
            var catalog = SourceOption.Catalog(services, from);
            var name = result.GetValue(file);
            if (name is not null == result.GetValue(latest))
            {
                return CliHost.Fail("give exactly one of --file <backup> or --latest", ErrorKind.Usage);
            }
            var entry = name is not null
                ? await catalog.FindAsync(name, token)
                : await catalog.LatestGoodAsync(null, token) ?? throw new NotFoundException($"no good backup in {catalog.Store.Location} (see 'floyo-dr list')");
            await ToolPreflight.VerificationServerAsync(services, "pg_restore", token);
            var record = await SourceOption.Service<BackupVerifier>(services, from).VerifyAsync(entry, Output.Progress(), token);
            Output.EndProgress();
            if (result.GetValue(json))
            {
                Output.Json(record);
            }
            else
            {
                if (record.Passed)
                {
                    Console.WriteLine($"verified {record.Backup}: checksum ok, restored on {record.Server}, {entry.Metadata.Facts.Tables.Count} tables and all object counts match ({record.DurationSeconds:F1} s)");
                }
                if (record.CreatedRoles is { Count: > 0 } created)
                {
                    var kept = created.Except(record.DroppedRoles ?? []).ToList();
                    Console.WriteLine($"roles missing on {record.Server} were created for the scratch copy and dropped again: {string.Join(", ", created)}"
                        + (kept.Count > 0 ? $"; NOT dropped (something came to depend on them): {string.Join(", ", kept)}" : ""));
                }
            }
            return record.Passed ? 0 : CliHost.Fail($"verification of {record.Backup} failed: {string.Join("; ", record.Problems.Take(5))}", ErrorKind.Integrity);
        }, ct));
        return command;
    }
}
