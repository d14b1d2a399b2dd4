using System.CommandLine;
using Floyo.Cli.Workflows;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Cli.Commands;

/// <summary>
/// Runs the rotation workflow (the one the Functions app runs on its schedule and on Key Vault's near-expiry
/// event) on the embedded Durable host: the grace period is its durable timer. Interrupted, nothing is lost
/// but the wait: the secret's tags say where the rotation stopped, and the next run finishes it.
/// </summary>
internal static class RotateCredentialsCommand
{
    public static Command Create()
    {
        var only = new Option<string?>("--only") { Description = "'database' (the application's login) or 'secrets' (secrets tagged floyo-rotation=random); both when omitted" };
        only.AcceptOnlyFromAmong("database", "secrets");
        var json = new Option<bool>("--json") { Description = "Print the rotation report as JSON" };
        var command = new Command("rotate-credentials",
            "Rotate the application's database login (blue/green, no downtime) and every secret tagged for rotation; resumes an interrupted rotation")
        { only, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var which = result.GetValue(only);
            var input = new RotationWorkflowInput(
                DatabaseCredential: which is null or "database",
                TaggedSecrets: which is null or "secrets",
                RotationId: RotationRunner.NewRotationId(TimeProvider.System));
            // The workflow's steps refuse anything unsafe on their own; the lock keeps two floyo-dr runs from racing to say so.
            await using var exclusive = input.DatabaseCredential ? await RotationRunner.LockServerAsync(services.GetRequiredService<DatabaseConnections>(), services.GetRequiredService<IOptions<RotationOptions>>().Value.GroupRole, token) : null;
            var id = await EmbeddedWorkflows.StartAsync(services, nameof(RotationOrchestrator), input, EmbeddedWorkflows.NewInstanceId("rotate-credentials"), token);
            var done = await EmbeddedWorkflows.WaitAsync<RotationWorkflowResult>(services, id, status =>
            {
                if (RotationStatus.From(status) is { Stage: RotationStatus.GracePeriod, RetireAfter: { } after })
                {
                    var wait = Math.Max(0, (after - DateTimeOffset.UtcNow).TotalSeconds);
                    Console.Error.WriteLine($"published; the previous credentials stay valid for {wait:F0} s of grace before they are retired (safe to interrupt: rerun to finish)");
                }
            }, token);
            var report = new RotationReport(done.RotationId, done.Rotated, done.Skipped ?? []);
            if (result.GetValue(json))
            {
                Output.Json(report);
                return 0;
            }
            foreach (var r in report.Rotated)
            {
                var role = r.Role is null ? "" : $", role {r.Role} active, {r.RetiredRole} retired ({r.SessionsEnded} sessions ended)";
                Console.WriteLine($"rotated {r.Secret}: version {r.NewVersion}{role}, {r.DisabledVersions.Count} previous versions disabled");
            }
            foreach (var s in report.Skipped)
            {
                Console.WriteLine($"skipped {s}");
            }
            if (report.Rotated.Count == 0)
            {
                Console.WriteLine("nothing to rotate");
            }
            return 0;
        }, ct, workflows: true));
        return command;
    }
}
