using System.CommandLine;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage.Secondary;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
            var listing = await catalog.ListWithFindingsAsync(token);
            var copies = services.GetRequiredService<CopyStatusReader>();
            var rows = new List<(BackupSummary Summary, BackupEntry? Entry)>();
            foreach (var e in listing.Entries)
            {
                rows.Add((BackupSummary.Of(e) with { Copies = await copies.StatusAsync(e, catalog.Store, token) }, e));
            }
            // A data object whose metadata was damaged or forged is shown as invalid where it would have been listed.
            foreach (var untrusted in listing.Findings.Where(f => listing.Entries.All(e => e.Name != f.Backup)).GroupBy(f => f.Backup))
            {
                var data = await catalog.Store.GetAsync(untrusted.Key, token);
                rows.Add((BackupSummary.Untrusted(untrusted.Key, data?.Size ?? 0, [.. untrusted]), null));
            }
            rows = [.. rows.OrderByDescending(r => r.Summary.Timestamp, StringComparer.Ordinal).ThenByDescending(r => r.Summary.Name, StringComparer.Ordinal)];
            if (result.GetValue(json))
            {
                Output.Json(rows.Select(r => r.Summary));
                return 0;
            }
            var bases = await new BaseBackupCatalog(catalog.Store).ListAsync(token);
            if (rows.Count == 0 && bases.Count == 0)
            {
                Console.WriteLine($"no backups in {catalog.Store.Location}");
                return 0;
            }
            if (rows.Count > 0)
            {
                Console.WriteLine($"{"NAME",-48} {"TYPE",-5} {"TIMESTAMP",-20} {"SIZE",10}  VERIFIED  {"SECONDARY",-14}  {"TERTIARY",-14}  STATUS");
            }
            foreach (var (summary, e) in rows)
            {
                var verified = e is null ? "-" : e.LastVerification is null ? "never" : e.Verified ? "yes" : "FAILED";
                var status = e is null || !e.IsValid ? "INVALID: " + string.Join("; ", summary.Problems)
                    : e.IsSuspect ? "SUSPECT: " + string.Join("; ", e.Metadata.Anomalies)
                    : e.LegalHold ? "ok, held" : "ok";
                Console.WriteLine($"{summary.Name,-48} {summary.Type,-5} {summary.Timestamp,-20} {Output.Size(summary.SizeBytes),10}  {verified,-8}  {summary.Copies?.Secondary ?? "-",-14}  {summary.Copies?.Tertiary ?? "-",-14}  {status}");
            }
            BaseBackupListing.Print(bases, await IncrementalBackupRecord.ListAsync(catalog.Store, token));
            // The server's archiving health belongs to the primary store only: a second copy is not fed by it.
            var primary = SourceOption.Parse(result, source) == Floyo.Recovery.Storage.BackupSource.Primary;
            // So are the further copies' WAL lag: measured against the primary's archive.
            BaseBackupListing.PrintRecoveryPoint(await new RecoveryPointFinder(catalog,
                primary ? services.GetRequiredService<ArchiveHealthProbe>() : null, services.GetRequiredService<IOptions<WalOptions>>(),
                primary ? services.GetRequiredService<WalCopyLagProbe>() : null).FindAsync(null, token));
            var ignored = listing.Findings.Where(f => listing.Entries.Any(e => e.Name == f.Backup)).ToList();
            if (ignored.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine("FINDINGS (records not trusted; replace or remove them):");
                foreach (var finding in ignored)
                {
                    Console.WriteLine($"  {finding}");
                }
            }
            return 0;
        }, ct));
        return command;
    }
}
