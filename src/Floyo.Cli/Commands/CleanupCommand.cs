using System.CommandLine;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class CleanupCommand
{
    public static Command Create()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan; delete nothing" };
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON" };
        var source = SourceOption.Create();
        var command = new Command("cleanup", "Apply retention: BACKUP_RETENTION_DAYS for full backups, 7 days for incremental") { dryRun, source, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var planner = SourceOption.Service<RetentionPlanner>(services, SourceOption.Parse(result, source));
            var plan = await planner.PlanAsync(token);
            var apply = !result.GetValue(dryRun);
            var failures = apply ? await planner.ApplyAsync(plan, token) : [];
            var store = SourceOption.Catalog(services, SourceOption.Parse(result, source)).Store;
            var wal = await services.GetRequiredService<WalRetention>().PlanAsync(store, token);
            failures = apply ? [.. failures, .. await WalRetention.ApplyAsync(store, wal, token)] : failures;
            if (result.GetValue(json))
            {
                Output.Json(new { dryRun = !apply, plan.Decisions, plan.Orphans, failures, plan.Findings, pointInTime = wal });
            }
            else
            {
                var verb = apply ? "deleted" : "would delete";
                foreach (var d in plan.Decisions)
                {
                    Console.WriteLine($"{(d.Delete ? verb : "keep"),-12} {d.Backup}  ({d.Reason})");
                }
                foreach (var orphan in plan.Orphans)
                {
                    Console.WriteLine($"{verb,-12} {orphan}  (data without metadata: an interrupted backup)");
                }
                WalRetentionListing.Print(wal, verb);
                Console.WriteLine($"{plan.Deletions.Count() + plan.Orphans.Count + wal.Deletions} to delete, {plan.Decisions.Count(d => !d.Delete)} kept{(apply ? "" : " (dry run: nothing deleted)")}");
                foreach (var finding in plan.Findings)
                {
                    Console.WriteLine($"finding: {finding}");
                }
            }
            return failures.Count == 0 ? 0 : CliHost.Fail(string.Join("; ", failures));
        }, ct));
        return command;
    }
}
