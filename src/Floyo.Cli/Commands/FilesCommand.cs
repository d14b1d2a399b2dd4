using Floyo.Recovery.Backups;
using System.CommandLine;
using System.Globalization;
using Floyo.Recovery;
using Floyo.Recovery.AppData;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class FilesCommand
{
    public static Command Create() => new("files", "Uploaded files: daily incremental snapshots of the uploads container (UPLOADS_*), restorable by day")
    {
        Snapshot(),
        List(),
        Restore(),
        AppDataCleanupCommand.Create("files snapshots (FILES_RETENTION_DAYS) and the stored files no remaining snapshot needs", (r, dry, ct) => r.CleanupFilesAsync(dry, ct)),
    };

    private static Command Snapshot()
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("snapshot", "Copy new and changed uploads into the backup store and write the day's manifest") { json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var snapshot = await services.GetRequiredService<FilesSnapshotter>().SnapshotAsync(token);
            if (result.GetValue(json))
            {
                Output.Json(snapshot);
            }
            else
            {
                Console.WriteLine($"snapshot {snapshot.Manifest}: {snapshot.Files} files ({Output.Size(snapshot.Bytes)}); copied {snapshot.CopiedFiles} new or changed ({Output.Size(snapshot.CopiedBytes)}), {snapshot.ReusedFiles} unchanged, in {snapshot.DurationSeconds:F1} s");
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array" };
        var command = new Command("list", "List complete files snapshots, newest first") { json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var snapshots = await services.GetRequiredService<FilesSnapshotter>().ListAsync(token);
            if (result.GetValue(json))
            {
                Output.Json(snapshots);
                return 0;
            }
            if (snapshots.Count == 0)
            {
                Console.WriteLine("no files snapshots");
                return 0;
            }
            Console.WriteLine($"{"TIMESTAMP",-20} {"FILES",7} {"SIZE",10} {"COPIED",7}  MANIFEST");
            foreach (var s in snapshots)
            {
                Console.WriteLine($"{BackupSummary.Iso(s.Timestamp),-20} {s.Files,7} {Output.Size(s.Bytes),10} {s.CopiedFiles,7}  {s.Manifest}");
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command Restore()
    {
        var date = new Option<string>("--date") { Description = "The day (YYYY-MM-DD, UTC) whose files to restore: the last snapshot taken that day or before", Required = true };
        var prefix = new Option<string?>("--prefix") { Description = "Only files whose names start with this" };
        var target = new Option<string?>("--target-container") { Description = "Restore into this container of the uploads account (default: UPLOADS_CONTAINER)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace files that exist in the target (default: leave them alone)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("restore", "Put uploaded files back as they were on a given day; each file is checksum-proven before it is committed") { date, prefix, target, overwrite, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var text = result.GetValue(date)!;
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                throw new UsageException($"--date must be a day as YYYY-MM-DD, not '{text}'");
            }
            var request = new FilesRestoreRequest(day, result.GetValue(prefix), result.GetValue(target), result.GetValue(overwrite));
            var restored = await services.GetRequiredService<FilesRestorer>().RestoreAsync(request, token);
            if (result.GetValue(json))
            {
                Output.Json(restored);
            }
            else
            {
                Console.WriteLine($"restored {restored.Restored} files ({Output.Size(restored.RestoredBytes)}) from the snapshot of {BackupSummary.Iso(restored.SnapshotTime)} into {restored.Target}");
                if (restored.SkippedExisting.Count > 0)
                {
                    Console.WriteLine($"left {restored.SkippedExisting.Count} existing files alone (--overwrite replaces them): {string.Join(", ", restored.SkippedExisting.Take(5))}{(restored.SkippedExisting.Count > 5 ? ", ..." : "")}");
                }
            }
            return restored.Failed.Count == 0 ? 0 : CliHost.Fail($"{restored.Failed.Count} files were not restored: {string.Join("; ", restored.Failed.Take(3))}");
        }, ct));
        return command;
    }
}
