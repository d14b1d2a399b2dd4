using System.Globalization;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Drills;

/// <summary>
/// Runs one drill scenario against staging, times every step, measures RTO and RPO against the
/// targets, and stores the report write-once. Passing takes both: every check held and the targets met.
/// </summary>
public sealed partial class DrillRunner(
    IBackupStore primary,
    DrillSteps steps,
    DrillReports reports,
    IOptions<DrillOptions> options,
    TimeProvider clock,
    ILogger<DrillRunner> logger,
    ISecondaryBackupStore? secondary = null)
{
    public async Task<DrillReport> RunAsync(string scenario, DateTimeOffset? incidentAt, CancellationToken ct)
    {
        scenario = DrillScenario.Parse(scenario);
        var incident = incidentAt ?? clock.GetUtcNow();
        if (incident > clock.GetUtcNow().AddMinutes(1))
        {
            throw new RecoveryException("the declared incident time is in the future");
        }
        var id = $"{scenario}-{clock.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..4]}";
        var timeline = new DrillTimeline(clock);
        BackupEntry? backup = null;
        DateTimeOffset? verifiedAt = null;
        var status = DrillStatus.Passed;
        var failures = new List<string>();
        LogStarting(logger, id);
        try
        {
            (backup, verifiedAt, status) = scenario switch
            {
                DrillScenario.RestoreTest => await RestoreAndProveAsync(timeline, primary, requireVerified: false, ct),
                DrillScenario.ServerFailure => await RestoreAndProveAsync(timeline, primary, requireVerified: true, ct),
                DrillScenario.DatacenterOutage => await RestoreAndProveAsync(timeline, SecondaryOrFail(timeline), requireVerified: true, ct),
                DrillScenario.DatabaseCorruption => await CorruptionAsync(timeline, ct),
                _ => (null, null, DrillStatus.NotAvailable),
            };
            if (status == DrillStatus.NotAvailable)
            {
                failures.Add("the security-breach recovery workflow is not available in this version, so this drill cannot pass");
            }
        }
        catch (DrillStepFailedException e)
        {
            status = DrillStatus.Failed;
            failures.Add(e.Message);
        }

        TimeSpan? rto = null, rpo = null;
        var targets = new RecoveryTargets(options.Value.RtoTarget, options.Value.RpoTarget, options.Value.RtoMax, options.Value.RpoMax);
        if (backup is not null && verifiedAt is { } verified && status == DrillStatus.Passed)
        {
            var (achievedRto, achievedRpo, missed) = RecoveryMeasurement.Evaluate(incident, backup.Metadata.Timestamp, verified, targets);
            (rto, rpo) = (achievedRto, achievedRpo);
            if (missed.Count > 0)
            {
                status = DrillStatus.Failed;
                failures.AddRange(missed);
            }
        }
        var report = new DrillReport(id, scenario, status, incident, clock.GetUtcNow(), backup?.Name, backup?.Metadata.Timestamp,
            rto, rpo, targets, timeline.Steps, failures);
        await reports.SaveAsync(report, ct);
        LogFinished(logger, id, status);
        return report;
    }

    /// <summary>restore-test, server-failure and datacenter-outage: the latest backup onto staging, verified, and the app login proven.</summary>
    private async Task<(BackupEntry?, DateTimeOffset?, string)> RestoreAndProveAsync(DrillTimeline timeline, IBackupStore store, bool requireVerified, CancellationToken ct)
    {
        var backup = await timeline.RunAsync("choose backup", () => DrillSteps.ChooseBackupAsync(store, requireVerified, ct),
            b => $"{b.Name} (taken {b.Metadata.Timestamp:u}) from {store.Location}");
        await RestoreVerifiedAsync(timeline, store, backup, "restore onto staging", ct);
        await timeline.RunAsync("application login", () => steps.ProveApplicationLoginAsync(backup, ct), d => d);
        return (backup, timeline.Steps[^1].FinishedAt, DrillStatus.Passed);
    }

    /// <summary>Copy onto staging, damage it, detect, repair in place what can be, restore what cannot, verify.</summary>
    private async Task<(BackupEntry?, DateTimeOffset?, string)> CorruptionAsync(DrillTimeline timeline, CancellationToken ct)
    {
        var backup = await timeline.RunAsync("choose backup", () => DrillSteps.ChooseBackupAsync(primary, false, ct), b => b.Name);
        await RestoreVerifiedAsync(timeline, primary, backup, "copy backup onto staging", ct);

        await timeline.RunAsync("damage: invalidate an index", () => steps.DamageAsync(repairable: true, ct), d => d.ToString());
        var found = await DetectAsync(timeline, backup, ct);
        if (found.NotRepairable.Count > 0)
        {
            throw timeline.Fail("decide", clock.GetUtcNow(), "an invalid index alone was classified as not repairable");
        }
        await timeline.RunAsync("repair in place (REINDEX, VACUUM FULL)", () => steps.RepairAsync(ct), done => string.Join("; ", done));
        await ExpectCleanAsync(timeline, backup, "verify repair", ct);

        await timeline.RunAsync("damage: truncate a table, drop an index", () => steps.DamageAsync(repairable: false, ct), d => d.ToString());
        found = await DetectAsync(timeline, backup, ct);
        if (found.NotRepairable.Count == 0)
        {
            throw timeline.Fail("decide", clock.GetUtcNow(), "lost rows and a dropped index were classified as repairable");
        }
        await RestoreVerifiedAsync(timeline, primary, backup, "not repairable: restore from backup", ct);
        return (backup, timeline.Steps[^1].FinishedAt, DrillStatus.Passed);
    }

    private async Task<IntegrityFindings> DetectAsync(DrillTimeline timeline, BackupEntry backup, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var findings = await timeline.RunAsync("integrity checks", () => steps.CheckIntegrityAsync(backup, ct),
            f => $"repairable: {Describe(f.Repairable)}; not repairable: {Describe(f.NotRepairable)}");
        if (findings.Clean)
        {
            throw timeline.Fail("detect damage", started, "the integrity checks did not detect the damage");
        }
        return findings;
    }

    private async Task ExpectCleanAsync(DrillTimeline timeline, BackupEntry backup, string name, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var findings = await timeline.RunAsync(name, () => steps.CheckIntegrityAsync(backup, ct), f => f.Clean ? "clean" : "still damaged");
        if (!findings.Clean)
        {
            throw timeline.Fail(name, started, $"still damaged: {Describe([.. findings.Repairable, .. findings.NotRepairable])}");
        }
    }

    private async Task RestoreVerifiedAsync(DrillTimeline timeline, IBackupStore store, BackupEntry backup, string name, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var problems = await timeline.RunAsync(name, () => steps.RestoreToStagingAsync(store, backup, ct),
            p => p.Count == 0 ? "restored; row and object counts match the backup" : $"{p.Count} differences");
        if (problems.Count > 0)
        {
            throw timeline.Fail("verify restore", started, $"the restored copy differs from the backup: {Describe(problems)}");
        }
    }

    private IBackupStore SecondaryOrFail(DrillTimeline timeline) =>
        secondary?.Store ?? throw timeline.Fail("open the second copy", clock.GetUtcNow(),
            "no second copy is configured (BACKUP_SECONDARY_*): the data-centre scenario restores only from it");

    private static string Describe(IReadOnlyList<string> items) => items.Count == 0 ? "none" : string.Join("; ", items.Take(5)) + (items.Count > 5 ? $" (+{items.Count - 5} more)" : "");

    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "Drill {Id} starting")]
    private static partial void LogStarting(ILogger logger, string id);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Drill {Id} finished: {Status}")]
    private static partial void LogFinished(ILogger logger, string id, string status);
}

/// <summary>The second copy of the backups, where one is configured (the data-centre scenario restores only from it).</summary>
public interface ISecondaryBackupStore
{
    IBackupStore Store { get; }
}
