using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Breach;

/// <param name="RotationGraceSeconds">Grace of the breach's rotation (BREACH_ROTATION_GRACE_SECONDS, read by the starter: orchestrators have no settings).</param>
public sealed record BreachContainmentInput(string? Since, bool Drill, double RotationGraceSeconds = 0);

public sealed record EvidenceInput(Incident Incident, IReadOnlyList<TimelineEntry> Timeline);

/// <summary>
/// The containment half of the breach workflow, as a Durable orchestration: the same steps as
/// <see cref="BreachRunner"/>, one activity each, with the rotation as a sub-orchestration. It ends where
/// a person must approve the restore; the full breach orchestration (approval, restore, resume writes,
/// GDPR reminders, post-mortem) calls it first. A rejected --since fails it before anything changes.
/// </summary>
public sealed class BreachContainmentOrchestrator : TaskOrchestrator<BreachContainmentInput, BreachPreparation>
{
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromSeconds(5), 2));

    public override async Task<BreachPreparation> RunAsync(TaskOrchestrationContext context, BreachContainmentInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var timeline = new List<TimelineEntry>();
        void Add(string step, string detail) => timeline.Add(new TimelineEntry(context.CurrentUtcDateTime, step, detail));

        context.SetCustomStatus("checking");
        // No retry: a bad --since or a missing clean backup will not fix itself.
        var check = await context.CallActivityAsync<BreachCheck>(nameof(CheckBreachActivity), input);
        var incident = check.Incident;
        Add("started", $"{(input.Drill ? "drill" : "breach recovery")} for a breach since {BreachSince.Format(incident.Since)} (instance {context.InstanceId})");
        Add("clean-backup-chosen", $"{check.Backup.Backup} (taken {BreachSince.Format(check.Backup.Timestamp)}); {check.Backup.PassedOver.Count} newer passed over");

        context.SetCustomStatus("capturing evidence");
        var atDetection = await context.CallActivityAsync<EvidenceManifest>(nameof(CaptureEvidenceActivity), new EvidenceInput(incident, [.. timeline]), Retry);
        Add("evidence-captured", $"{atDetection.Files.Count} files under legal hold, manifest {incident.EvidencePrefix}{atDetection.CaptureId}/manifest.json");

        context.SetCustomStatus("isolating");
        var isolation = await context.CallActivityAsync<IsolationResult>(nameof(IsolateDatabaseActivity), incident, Retry);
        Add("isolated", isolation.Record.Skipped
            ? "skipped (BREACH_ISOLATE=false)"
            : $"CONNECT revoked on {isolation.Record.Database}; {isolation.SessionsEnded} sessions ended{(isolation.StillCanConnect.Count > 0 ? $"; STILL CAN CONNECT: {string.Join(", ", isolation.StillCanConnect)}" : "")}");

        context.SetCustomStatus("holding backups");
        var held = await context.CallActivityAsync<HeldBackups>(nameof(HoldBackupsActivity), incident, Retry);
        Add("backups-held", $"legal hold on {held.Backups.Count} backups");

        context.SetCustomStatus("rotating credentials");
        var rotations = new List<RotationOutcome>();
        for (var round = 1; round <= 2; round++)
        {
            var rotation = await context.CallSubOrchestratorAsync<RotationWorkflowResult>(nameof(RotationOrchestrator),
                new RotationWorkflowInput(GraceSeconds: input.RotationGraceSeconds, RotationId: $"rot-{incident.Id}-{round}"),
                new SubOrchestrationOptions { InstanceId = $"{context.InstanceId}-rotation-{round}" });
            rotations.AddRange(rotation.Rotated);
            // Finishing an interrupted rotation is not enough: what it published predates the breach response.
            if (!rotation.Rotated.Any(r => r.Resumed))
            {
                break;
            }
        }
        foreach (var r in rotations)
        {
            Add("credential-rotated", $"{r.Secret} now version {r.NewVersion}{(r.Role is null ? "" : $" ({r.Role}; {r.RetiredRole} retired)")}; {r.DisabledVersions.Count} versions disabled");
        }

        context.SetCustomStatus("capturing evidence");
        var afterContainment = await context.CallActivityAsync<EvidenceManifest>(nameof(CaptureEvidenceActivity), new EvidenceInput(incident, [.. timeline]), Retry);
        Add("evidence-captured", $"after containment: manifest {incident.EvidencePrefix}{afterContainment.CaptureId}/manifest.json");
        Add("awaiting-approval", $"restore {check.Backup.Backup}");
        context.SetCustomStatus("awaiting approval");
        return new BreachPreparation(incident, check.Backup, atDetection, isolation, held, rotations, afterContainment, timeline);
    }

    /// <summary>Every class to register with <c>AddTasks</c>, besides <see cref="RotationOrchestrator"/> and its activities.</summary>
    public static IReadOnlyList<Type> Activities { get; } =
    [
        typeof(CheckBreachActivity),
        typeof(CaptureEvidenceActivity),
        typeof(IsolateDatabaseActivity),
        typeof(HoldBackupsActivity),
        typeof(ReleaseIsolationActivity),
        typeof(WritePostMortemActivity),
    ];
}

public sealed class CheckBreachActivity(BreachPreflight preflight) : TaskActivity<BreachContainmentInput, BreachCheck>
{
    public override Task<BreachCheck> RunAsync(TaskActivityContext context, BreachContainmentInput input) =>
        preflight.CheckAsync(input.Since, input.Drill, CancellationToken.None);
}

public sealed class CaptureEvidenceActivity(EvidenceCollector collector) : TaskActivity<EvidenceInput, EvidenceManifest>
{
    public override Task<EvidenceManifest> RunAsync(TaskActivityContext context, EvidenceInput input) =>
        collector.CollectAsync(input.Incident, input.Timeline, CancellationToken.None);
}

public sealed class IsolateDatabaseActivity(DatabaseIsolator isolator) : TaskActivity<Incident, IsolationResult>
{
    public override Task<IsolationResult> RunAsync(TaskActivityContext context, Incident input) => isolator.IsolateAsync(input, CancellationToken.None);
}

public sealed class HoldBackupsActivity(BackupHolds holds, IOptions<DatabaseOptions> database) : TaskActivity<Incident, HeldBackups>
{
    public override Task<HeldBackups> RunAsync(TaskActivityContext context, Incident input) =>
        holds.HoldAsync(DatabaseUrl.Parse(database.Value.DatabaseUrl).Database!, input.Since, CancellationToken.None);
}

/// <summary>Resume writes: CONNECT back exactly as it was before isolation. Null when the incident never isolated.</summary>
public sealed class ReleaseIsolationActivity(DatabaseIsolator isolator) : TaskActivity<string, IsolationRecord?>
{
    public override Task<IsolationRecord?> RunAsync(TaskActivityContext context, string input) => isolator.ReleaseAsync(input, CancellationToken.None);
}

public sealed class WritePostMortemActivity(PostMortemWriter writer) : TaskActivity<PostMortemInput, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, PostMortemInput input) => writer.WriteAsync(input, CancellationToken.None);
}
