using System.CommandLine;
using System.Text.Json;
using Floyo.Cli.Workflows;
using Floyo.Recovery;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Cli.Commands;

internal static class RestoreCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The backup, by the name 'floyo-dr list' prints (required unless --pitr)" };
        var drop = new Option<bool>("--drop-existing") { Description = "Replace the target database if it is not empty" };
        var target = new Option<string?>("--target-database") { Description = "Restore into this database on the same server (default: the database of DATABASE_URL)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var approveAs = new Option<string?>("--approve-as") { Description = "The second person approving this restore, when RESTORE_APPROVAL_REQUIRED asks for one" };
        var reason = new Option<string?>("--reason") { Description = "Why this restore is run (kept in the restore report)" };
        var source = SourceOption.Create();
        var pitr = PitrOptions.Create();
        var command = new Command("restore", "Restore a backup, checksum first, never over a database not named for replacement") { file, drop, target, source, json, approveAs, reason };
        pitr.AddTo(command);
        command.SetAction((result, ct) => result.GetValue(pitr.Pitr) ? pitr.RunAsync(result, json, target, drop, file, source, ct) : result.GetValue(file) is null
            ? Task.FromResult(CliHost.Fail("Option '--file' is required (or --pitr with --target-time and --data-dir)", 2))
            : CliHost.RunAsync(async (services, token) =>
        {
            var settings = services.GetRequiredService<IOptions<WorkflowOptions>>().Value;
            var approval = ApprovalPrompt.FromConsole(result.GetValue(approveAs));
            var requester = approval.Requester;
            approval.Check(settings.ApprovalRequired, "this restore needs a second person's approval (RESTORE_APPROVAL_REQUIRED)");
            var targetName = result.GetValue(target);
            if (targetName is not null)
            {
                RestoreRunner.CheckTargetName(targetName, "--target-database");
            }

            await ToolPreflight.DatabaseServerAsync(services, "pg_restore", token);
            var runtime = services.GetRequiredService<WorkflowRuntime>();
            runtime.Progress = Output.Progress();
            runtime.OperatorAtTerminal = true;
            var input = new RestoreWorkflowInput(result.GetValue(file)!, targetName, result.GetValue(drop),
                result.GetValue(reason) ?? "floyo-dr restore", requester, RestoreSource.Cli, settings.ApprovalTimeout, RetrySettings.Once,
                SourceOption.Parse(result, source));
            var id = await EmbeddedWorkflows.StartAsync(services, nameof(RestoreOrchestrator), input, EmbeddedWorkflows.NewInstanceId("restore"), token);
            var client = services.GetRequiredService<DurableTaskClient>();
            RestoreReport report;
            try
            {
                report = await approval.FollowAsync<RestoreProgress, RestoreReport>(client, id, AtApproval,
                    (why, ct) => client.TerminateInstanceAsync(id, why, ct), other: null, token);
            }
            catch (RecoveryException e)
            {
                // A failed restore opened an incident: catch its plan up here, then report the restore's own error, naming it.
                Output.EndProgress();
                var incident = await IncidentCommand.FollowRaisedAsync(services, id, token);
                if (incident.Length == 0)
                {
                    throw;
                }
                throw RecoveryException.Of(e.Kind, e.Message + incident, e);
            }
            Output.EndProgress();
            if (report.Outcome != RestoreOutcome.Restored)
            {
                return CliHost.Fail(report.Error ?? $"restore ended as {report.Outcome}");
            }
            var restored = new RestoreResult(report.Backup, report.Server!, report.TargetDatabase!, report.ReplacedExisting, report.DurationSeconds, report.CreatedRoles);
            if (result.GetValue(json))
            {
                Output.Json(restored);
            }
            else
            {
                Console.WriteLine($"restored {restored.Backup} into '{restored.TargetDatabase}' on {restored.Server} in {restored.DurationSeconds:F1} s{(restored.ReplacedExisting ? " (replaced the existing database)" : "")}");
                if (restored.CreatedRoles.Count > 0)
                {
                    Console.WriteLine($"created roles without passwords: {string.Join(", ", restored.CreatedRoles)}");
                }
            }
            return 0;
        }, ct, workflows: true));
        return command;
    }

    /// <summary>The restore at its approval gate, as the prompt shows it; null at any other stage.</summary>
    private static ApprovalWait? AtApproval(RestoreProgress progress)
    {
        if (progress.Stage != RestoreStages.AwaitingApproval)
        {
            return null;
        }
        var plan = progress.Plan;
        var what = plan is null ? "a restore" : $"restore {plan.Backup} into '{plan.TargetDatabase}' on {plan.Server}{(plan.ReplacesExisting ? ", replacing the existing database" : "")}";
        // RequesterMayApprove: no second person asked for (RESTORE_APPROVAL_REQUIRED is off), so the person who
        // typed the command approves it, in their own name, and the report says so.
        return new ApprovalWait(plan is { RequesterMayApprove: true }, [$"approval required (RESTORE_APPROVAL_REQUIRED): {what}"], "cancel",
            $"the restore was not approved by someone other than {progress.RequestedBy}; nothing was changed");
    }
}
