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
        command.SetAction((result, ct) => result.GetValue(pitr.Pitr) ? pitr.RunAsync(result, json, target, drop, file, ct) : result.GetValue(file) is null
            ? Task.FromResult(CliHost.Fail("Option '--file' is required (or --pitr with --target-time and --data-dir)", 2))
            : CliHost.RunAsync(async (services, token) =>
        {
            var settings = services.GetRequiredService<IOptions<WorkflowOptions>>().Value;
            var requester = Environment.UserName;
            var approver = result.GetValue(approveAs)?.Trim();
            var atTerminal = !Console.IsInputRedirected && !Console.IsErrorRedirected;
            if (approver is { Length: 0 })
            {
                return CliHost.Fail("--approve-as needs the approver's name", ErrorKind.Usage);
            }
            if (settings.ApprovalRequired)
            {
                // Decided before anything starts: a script without an approver must not sit waiting.
                if (approver is null && !atTerminal)
                {
                    return CliHost.Fail("this restore needs a second person's approval (RESTORE_APPROVAL_REQUIRED): run it at a terminal or pass --approve-as <name>; nothing was changed", ErrorKind.RefusedForSafety);
                }
                if (approver is not null && Principals.Same(approver, requester))
                {
                    return CliHost.Fail($"--approve-as must name someone other than you ({requester}); nothing was changed", ErrorKind.RefusedForSafety);
                }
            }
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
            var report = await FollowAsync(services.GetRequiredService<DurableTaskClient>(), id, requester, approver, atTerminal, token);
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

    /// <summary>Follows the restore; when it waits for approval, gives the one from --approve-as or asks at the terminal.</summary>
    private static async Task<RestoreReport> FollowAsync(DurableTaskClient client, string id, string requester, string? approver, bool atTerminal, CancellationToken ct)
    {
        var approvalSent = false;
        while (true)
        {
            var state = await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct) ?? throw new RecoveryException($"restore {id} vanished from the embedded engine");
            if (state.IsCompleted)
            {
                return EmbeddedWorkflows.Output<RestoreReport>(state, id);
            }
            if (!approvalSent && state.SerializedCustomStatus is { } status
                && JsonSerializer.Deserialize<RestoreProgress>(status) is { Stage: RestoreStages.AwaitingApproval } progress)
            {
                if (progress.Plan is { RequesterMayApprove: true })
                {
                    // No second person asked for (RESTORE_APPROVAL_REQUIRED is off): the person who typed the command
                    // approves it, in their own name, and the report says so.
                    await client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new RestoreApproval(approver ?? requester, "floyo-dr, at the terminal"), ct);
                    approvalSent = true;
                    continue;
                }
                Output.EndProgress();
                var name = approver ?? (atTerminal ? await AskAsync(progress, requester, ct) : null);
                if (name is null || Principals.Same(name, requester))
                {
                    await client.TerminateInstanceAsync(id, "no approval given", ct);
                    throw new RefusedException($"the restore was not approved by someone other than {requester}; nothing was changed");
                }
                await client.RaiseEventAsync(id, RestoreOrchestrator.ApprovalEvent, new RestoreApproval(name, "floyo-dr"), ct);
                approvalSent = true;
            }
            await Task.Delay(EmbeddedWorkflows.PollInterval, ct);
        }
    }

    private static async Task<string?> AskAsync(RestoreProgress progress, string requester, CancellationToken ct)
    {
        var plan = progress.Plan;
        var what = plan is null ? "a restore" : $"restore {plan.Backup} into '{plan.TargetDatabase}' on {plan.Server}{(plan.ReplacesExisting ? ", replacing the existing database" : "")}";
        Console.Error.WriteLine($"approval required (RESTORE_APPROVAL_REQUIRED): {what}");
        Console.Error.Write($"approver, someone other than {requester} (empty to cancel): ");
        var line = await Console.In.ReadLineAsync(ct);
        return string.IsNullOrWhiteSpace(line) ? null : line.Trim();
    }
}
