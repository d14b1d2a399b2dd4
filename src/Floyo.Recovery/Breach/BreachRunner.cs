using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Breach;

/// <summary>Where the breach workflow stands when it needs a person: the backup to restore, and what containment did.</summary>
public sealed record BreachPreparation(
    Incident Incident,
    CleanBackupChoice Backup,
    EvidenceManifest EvidenceAtDetection,
    IsolationResult Isolation,
    HeldBackups Holds,
    IReadOnlyList<RotationOutcome> Rotations,
    EvidenceManifest EvidenceAfterContainment,
    IReadOnlyList<TimelineEntry> Timeline);

/// <summary>
/// The breach workflow's containment half, run step by step (the Durable orchestration calls the same
/// steps as activities): check --since and the clean backup; capture evidence as found (the sessions
/// before they are ended); isolate; hold the backups; rotate every managed credential with no grace
/// period; capture evidence again with the timeline. It stops where a person must approve the restore.
/// </summary>
public sealed class BreachRunner(
    BreachPreflight preflight,
    EvidenceCollector evidence,
    DatabaseIsolator isolator,
    BackupHolds holds,
    RotationRunner rotation,
    IOptions<DatabaseOptions> database,
    IOptions<BreachOptions> breach,
    TimeProvider clock)
{
    public async Task<BreachPreparation> PrepareAsync(string? since, bool drill, CancellationToken ct)
    {
        var check = await preflight.CheckAsync(since, drill, ct);
        var incident = check.Incident;
        var timeline = new List<TimelineEntry>
        {
            new(incident.StartedAt, "started", $"{(drill ? "drill" : "breach recovery")} for a breach since {BreachSince.Format(incident.Since)}"),
            Entry("clean-backup-chosen", $"{check.Backup.Backup} (taken {BreachSince.Format(check.Backup.Timestamp)}); {check.Backup.PassedOver.Count} newer passed over"),
        };

        var atDetection = await evidence.CollectAsync(incident, timeline, ct);
        timeline.Add(Entry("evidence-captured", $"{atDetection.Files.Count} files under legal hold, manifest {incident.EvidencePrefix}{atDetection.CaptureId}/manifest.json"));

        var isolation = await isolator.IsolateAsync(incident, ct);
        timeline.Add(Entry("isolated", isolation.Record.Skipped
            ? "skipped (BREACH_ISOLATE=false)"
            : $"CONNECT revoked on {isolation.Record.Database}; {isolation.SessionsEnded} sessions ended{(isolation.StillCanConnect.Count > 0 ? $"; STILL CAN CONNECT: {string.Join(", ", isolation.StillCanConnect)}" : "")}"));

        var held = await holds.HoldAsync(DatabaseUrl.Parse(database.Value.DatabaseUrl).Database!, incident.Since, ct);
        timeline.Add(Entry("backups-held", $"legal hold on {held.Backups.Count} backups"));

        var request = new RotationRequest(Grace: TimeSpan.FromSeconds(breach.Value.RotationGraceSeconds));
        var report = await rotation.RunAsync(request, null, ct);
        var rotations = report.Rotated.ToList();
        if (rotations.Any(r => r.Resumed))
        {
            // Finishing an interrupted rotation is not enough: the credential it published predates the breach response.
            rotations.AddRange((await rotation.RunAsync(request, null, ct)).Rotated);
        }
        foreach (var r in rotations)
        {
            timeline.Add(Entry("credential-rotated", $"{r.Secret} now version {r.NewVersion}{(r.Role is null ? "" : $" ({r.Role}; {r.RetiredRole} retired)")}; {r.DisabledVersions.Count} versions disabled"));
        }

        var afterContainment = await evidence.CollectAsync(incident, timeline, ct);
        timeline.Add(Entry("evidence-captured", $"after containment: manifest {incident.EvidencePrefix}{afterContainment.CaptureId}/manifest.json"));
        timeline.Add(Entry("awaiting-approval", $"restore {check.Backup.Backup}"));
        return new BreachPreparation(incident, check.Backup, atDetection, isolation, held, rotations, afterContainment, timeline);
    }

    private TimelineEntry Entry(string step, string detail) => new(clock.GetUtcNow(), step, detail);
}
