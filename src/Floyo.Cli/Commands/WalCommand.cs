using System.CommandLine;
using Floyo.Recovery;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Floyo.Cli.Commands;

/// <summary>
/// <c>floyo-dr wal push|fetch|verify|receive|copy</c>: archive_command, restore_command, the continuity proof, pull mode
/// and the further copies of the archive.
/// push and fetch run once per WAL file under the database server, so they print nothing when all is well.
/// </summary>
internal static class WalCommand
{
    public const int DamagedExitCode = 126;

    public static Command Create() => new("wal", "Continuous archiving: archive_command, restore_command and the archive's continuity")
    {
        Push(),
        Fetch(),
        Verify(),
        Receive(),
        Copy(),
    };

    private static Command Push()
    {
        var path = new Argument<string>("path") { Description = "The WAL file to archive (%p in archive_command)" };
        var batch = new Option<bool>("--batch")
        {
            Description = "Also archive, in parallel, the other WAL files PostgreSQL has marked ready (up to WAL_PUSH_BATCH_FILES), each marked in pg_wal/floyo-archived "
                + "so that the floyo-wal-push wrapper (archive_command = '/path/to/floyo-wal-push %p') acknowledges it without starting floyo-dr",
        };
        var command = new Command("push", "Archive one WAL file (archive_command = 'floyo-dr wal push %p'); exit 0 only once it is durable in the store") { path, batch };
        command.SetAction((result, ct) => WalHost.RunAsync(async (wal, token) =>
        {
            var file = result.GetValue(path)!;
            await (result.GetValue(batch) ? wal.BatchPusher.PushAsync(file, token) : wal.Archive.PushAsync(file, token));
            return 0;
        }, ct));
        return command;
    }

    private static Command Fetch()
    {
        var file = new Argument<string>("walfile") { Description = "The WAL file PostgreSQL asks for (%f in restore_command)" };
        var destination = new Argument<string>("destination") { Description = "Where to write it (%p in restore_command)" };
        var prefetch = new Option<int>("--prefetch") { Description = "Also fetch this many following segments into pg_wal/floyo-prefetch, which the restore_command of a PITR takes first" };
        var source = SourceOption.Create();
        var command = new Command("fetch", "Restore one archived WAL file (restore_command = 'floyo-dr wal fetch %f %p'); exit 1, quietly, when it is not archived") { file, destination, prefetch, source };
        // The primary is read once per segment on the lean start; a further copy only after a disaster, through the whole engine.
        command.SetAction((result, ct) => result.GetValue(source) is null or "primary"
            ? WalHost.RunAsync((wal, token) => FetchAsync(wal.Prefetcher, result, file, destination, prefetch, token), ct)
            : CliHost.RunAsync((services, token) => FetchAsync(Prefetcher(services, SourceOption.Parse(result, source)), result, file, destination, prefetch, token), ct));
        return command;
    }

    private static async Task<int> FetchAsync(WalPrefetcher prefetcher, ParseResult result, Argument<string> file, Argument<string> destination, Option<int> prefetch, CancellationToken token)
    {
        try
        {
            var outcome = await prefetcher.FetchAsync(result.GetValue(file)!, result.GetValue(destination)!, result.GetValue(prefetch), token);
            // PostgreSQL asks for files past the end of the archive (and for .history files that never existed) as a matter of course.
            return outcome == FetchOutcome.Fetched ? 0 : 1;
        }
        catch (WalDamagedException e)
        {
            // Above 125 PostgreSQL aborts recovery instead of taking the damage for the end of the archive and promoting there.
            return CliHost.Fail(e.Message, DamagedExitCode);
        }
    }

    /// <summary>The primary's archive, or a further copy's (restore --pitr --source), without building the primary store.</summary>
    private static WalPrefetcher Prefetcher(IServiceProvider services, BackupSource source) =>
        source == BackupSource.Primary
            ? services.GetRequiredService<WalPrefetcher>()
            : ActivatorUtilities.CreateInstance<WalPrefetcher>(services,
                ActivatorUtilities.CreateInstance<WalArchive>(services, services.GetRequiredService<BackupStores>().For(source)));

    private static Command Copy()
    {
        var json = new Option<bool>("--json") { Description = "Print one result per further copy as JSON" };
        var verify = new Option<bool>("--verify") { Description = "Also prove every file a copy already holds (record and SHA-256), not only its size" };
        var alert = new Option<bool>("--alert") { Description = "Raise the incident of a copy that failed (wal-copy:<copy>) and resolve it when the copy is complete, as the incremental backup does" };
        var command = new Command("copy", "Copy every archived WAL file, base backup and incremental record a further copy (BACKUP_SECONDARY_*, BACKUP_TERTIARY_*) lacks, verified by SHA-256; never overwrites") { verify, json, alert };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var results = await services.GetRequiredService<WalCopier>().CopyToEveryCopyAsync(result.GetValue(verify), token);
            if (result.GetValue(alert))
            {
                await services.GetRequiredService<WalCopyAlerter>().ApplyAsync(results, "'floyo-dr wal copy'", token);
            }
            if (result.GetValue(json))
            {
                Output.Json(results);
            }
            else if (results.Count == 0)
            {
                Console.WriteLine("not configured: no further copy (BACKUP_SECONDARY_STORE, BACKUP_TERTIARY_STORE); nothing to copy");
            }
            ReportCopies(results, toStdout: !result.GetValue(json), "the WAL archive");
            return 0;
        }, ct));
        return command;
    }

    /// <summary>
    /// Prints what each copy got (to stderr when stdout carries JSON) and fails the command when one copy refused a
    /// file (a different one under the same name: exit as refused) or could not be completed.
    /// </summary>
    public static void ReportCopies(IReadOnlyList<WalCopyResult> results, bool toStdout, string what)
    {
        foreach (var copy in results)
        {
            (toStdout ? Console.Out : Console.Error).WriteLine(copy.Describe());
        }
        if (results.FirstOrDefault(r => r.Conflicts.Count > 0) is { } refused)
        {
            throw new RefusedException($"{what} is in the primary store, but the {BackupStores.Ordinal(refused.Copy)} copy holds a different file under a name it uses; nothing was overwritten: {refused.Conflicts[0]}");
        }
        if (results.FirstOrDefault(r => r.Problems.Count > 0) is { } failed)
        {
            throw new RecoveryException($"{what} is in the primary store, but its {BackupStores.Ordinal(failed.Copy)} copy is not complete: {failed.Problems[0]}");
        }
    }

    private static Command Verify()
    {
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var command = new Command("verify", "Prove the archive continuous from the newest base backup to the newest segment; name the first gap") { json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var report = await services.GetRequiredService<WalContinuity>().CheckAsync(token);
            if (result.GetValue(json))
            {
                Output.Json(report);
            }
            else if (report.Continuous)
            {
                Console.WriteLine($"continuous: {report.Segments} segments from {report.FirstSegment} to {report.LastSegment} (base backup {report.BaseBackup})");
            }
            else
            {
                foreach (var problem in report.Problems)
                {
                    Console.WriteLine($"NOT continuous: {problem}");
                }
            }
            return report.Continuous ? 0 : 1;
        }, ct));
        return command;
    }

    private static Command Receive()
    {
        var untilNow = new Option<bool>("--until-now") { Description = "Stop at the server's current WAL position (after closing the current segment where allowed) instead of receiving until stopped" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("receive", "Pull mode: drain the physical replication slot WAL_RECEIVE_SLOT with pg_receivewal and archive every complete segment") { untilNow, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            // The host's console lifetime takes SIGTERM/SIGINT for itself (stopping the application, not cancelling the
            // command's token): a receive stopped by a service manager must still stop pg_receivewal and archive what it completed.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token, services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            var received = await services.GetRequiredService<WalReceiver>().RunAsync(result.GetValue(untilNow), stop.Token);
            if (result.GetValue(json))
            {
                Output.Json(received);
            }
            else
            {
                Console.WriteLine(received.Detail);
            }
            return 0;
        }, ct));
        return command;
    }
}
