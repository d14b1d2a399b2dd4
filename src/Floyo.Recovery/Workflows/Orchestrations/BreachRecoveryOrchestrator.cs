using Floyo.Recovery.Breach;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>
/// Security-breach recovery, end to end, as a Durable orchestration: check --since and choose the newest
/// verified, non-anomalous backup taken before it (a rejected request changes nothing); tell the on-call
/// engineer, and start the GDPR reminders; capture evidence as found; isolate the database; hold the
/// backups; rotate every managed credential with no grace period; capture evidence again; wait for a second
/// person to approve the restore of the chosen backup; restore it (staging + rename, kept isolated); verify;
/// give access back; write the post-mortem skeleton; then wait until the GDPR notification is acknowledged.
/// Each step is one idempotent activity, so a host restart resumes where it stopped. After isolation a
/// failure or a missing approval leaves the database isolated and says how to reopen it. In drill mode
/// everything runs against staging, backups are not held and credentials are only named.
/// </summary>
public sealed class BreachRecoveryOrchestrator : TaskOrchestrator<BreachRecoveryInput, BreachReport>
{
    public const string ApprovalEvent = ApprovalGate.EventName;
    public const string RecordName = "breach";
    public const string DrillApprover = "drill (automatic)";

    /// <summary>The plan's breach RTO is 24-48 h: the incident is projected at its lower end.</summary>
    public static readonly TimeSpan BreachProjectedRto = TimeSpan.FromHours(24);

    /// <summary>The GDPR reminders run beside the recovery as a sub-orchestration with this id; its acknowledgement event goes there.</summary>
    public static string RemindersInstanceId(string instanceId) => $"{instanceId}-gdpr";

    public override async Task<BreachReport> RunAsync(TaskOrchestrationContext context, BreachRecoveryInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var logger = context.CreateReplaySafeLogger<BreachRecoveryOrchestrator>();
        // Only the drill orchestration may run a breach drill unattended: an input alone cannot skip the approval.
        var unattended = input.Drill && input.Unattended && context.Parent?.Name.Name == nameof(Workflows.Orchestrations.DrillOrchestrator);
        var run = new Run(context, input);
        logger.WorkflowStarted(nameof(BreachRecoveryOrchestrator), context.InstanceId, $"{input.RequestedBy}{(input.Drill ? " (drill)" : "")}");

        // 1. Preflight: nothing is changed until --since, the clean backup and the target are known good.
        run.Stage(BreachStages.Checking, "checking --since and choosing the clean backup");
        BreachSettings settings;
        BreachCheck check;
        try
        {
            settings = await context.CallActivityAsync<BreachSettings>(nameof(ReadBreachSettingsActivity), true, run.Retry);
            check = await context.CallActivityAsync<BreachCheck>(nameof(CheckBreachActivity), input, run.Retry);
        }
        catch (TaskFailedException e)
        {
            var error = WorkflowTasks.Describe(e);
            var message = error.Contains("nothing was", StringComparison.Ordinal) ? error : $"{error}; nothing was changed";
            context.SetCustomStatus(new BreachProgress("refused", message, input.RequestedBy, input.Drill));
            logger.BreachRefused(context.InstanceId, message);
            throw RecoveryException.Of(ErrorKinds.Of(e), message);
        }
        var incident = check.Incident;
        run.Begin(check);
        logger.BreachStarted(context.InstanceId, incident.Id, input.RequestedBy, incident.Since, check.Target.ToString());
        run.Add("started", $"{(input.Drill ? "drill" : "breach recovery")} requested by {input.RequestedBy} ({input.Reason}) for a breach since {BreachSince.Format(incident.Since)}; target {check.Target}; instance {context.InstanceId}");
        run.Add("clean-backup-chosen", $"{check.Backup.Backup} (taken {BreachSince.Format(check.Backup.Timestamp)}){Passed(check.Backup)}");

        // 2. Tell people, and keep reminding them of the GDPR deadline until someone says the authority knows.
        // A breach is an incident from its first step, under the breach's own id (its evidence, post-mortem and
        // pages share it): the incident's opening is the page, and its communication plan runs beside this
        // workflow and after it. The plan's breach RTO is 24-48 h, past the customer threshold, so the status
        // page and the customers hear at once (the title is what they read: no server or database name in it).
        // A drill is not an incident (a failed drill is the drill's), and without an incident the page goes as before.
        var startText = $"Breach believed to start {BreachSince.Format(incident.Since)}; {check.Target} will be isolated and restored from {check.Backup.Backup} once a second person approves. " +
            $"GDPR: notify the supervisory authority by {BreachSince.Format(incident.NotifyBy)} (72 h). Workflow {context.InstanceId}.";
        if (!input.Drill)
        {
            var raised = await WorkflowTasks.RaiseIncidentAsync(context, new Incidents.IncidentTrigger(
                Incidents.IncidentCause.Breach, incident.Id, context.InstanceId, "Security incident: breach recovery started",
                NotificationSeverity.Critical, $"breach recovery workflow (requested by {input.RequestedBy}: {input.Reason})", BreachStages.CapturingEvidence, startText,
                BreachProjectedRto));
            run.IncidentId = raised?.IncidentId;
        }
        if (run.IncidentId is null)
        {
            await run.NotifyAsync("started", input.Drill ? NotificationSeverity.Info : NotificationSeverity.Critical,
                $"Security incident {incident.Id}: breach recovery started", startText);
        }
        run.Add("notified", $"incident start sent ({(input.Drill ? "info, drill" : run.IncidentId is { } opened ? $"critical, as incident {opened} whose communication plan now runs" : "critical")}); " +
            $"GDPR notification due by {BreachSince.Format(incident.NotifyBy)}, reminders every {settings.ReminderInterval}");
        var reminders = context.CallSubOrchestratorAsync<GdprNotificationResult>(nameof(GdprReminderOrchestrator),
            new GdprNotificationInput(incident, settings.ReminderInterval, unattended),
            new SubOrchestrationOptions { InstanceId = RemindersInstanceId(context.InstanceId) });

        try
        {
            // 3. Contain: evidence as found, isolation, holds, credentials, evidence after containment.
            run.Stage(BreachStages.CapturingEvidence, "capturing evidence as found");
            var found = await context.CallActivityAsync<EvidenceManifest>(nameof(CaptureEvidenceActivity), new EvidenceInput(incident, run.TimelineSoFar, "detection"), run.Retry);
            run.Evidence.Add(found);
            run.Add("evidence-captured", $"as found: {found.Files.Count} files{(found.LegalHold ? " under legal hold" : " (drill: not held)")}, manifest {incident.EvidencePrefix}{found.CaptureId}/manifest.json");

            await run.StageAsync(BreachStages.Isolating, $"cutting the application off {check.Target}");
            var isolation = await context.CallActivityAsync<IsolationResult>(nameof(IsolateDatabaseActivity), incident, run.Retry);
            run.Isolation = isolation;
            run.Add("isolated", isolation.Record.Skipped
                ? "skipped (BREACH_ISOLATE=false)"
                : $"CONNECT revoked on {isolation.Record.Database} ({string.Join(", ", isolation.Record.RolesWithConnect.Concat(isolation.Record.PublicHadConnect ? ["PUBLIC"] : []).DefaultIfEmpty("nobody held it explicitly"))}); {isolation.SessionsEnded} sessions ended" +
                  $"{(isolation.Record.InheritedFrom is { } earlier ? $"; already isolated by {earlier}, whose record of the original access is kept" : "")}" +
                  $"{(isolation.StillCanConnect.Count > 0 ? $"; STILL CAN CONNECT: {string.Join(", ", isolation.StillCanConnect)}" : "")}");
            if (isolation.StillCanConnect.Count > 0)
            {
                await run.NotifyAsync("still-connect", input.Drill ? NotificationSeverity.Warning : NotificationSeverity.Critical,
                    $"Incident {incident.Id}: isolation incomplete",
                    $"After revoking CONNECT these roles can still connect to {check.Target}: {string.Join(", ", isolation.StillCanConnect)} (superuser, or a grant through another role). Cut them off by hand.");
            }

            run.Stage(BreachStages.HoldingBackups, $"legal hold on the backups from {check.Backup.Backup}, the one to restore, onward");
            run.Holds = await context.CallActivityAsync<HeldBackups>(nameof(HoldBackupsActivity), new BreachRestoreInput(incident, check.Backup.Backup), run.Retry);
            run.Add("backups-held", $"{(run.Holds.Applied ? "legal hold on" : "drill: would hold")} {run.Holds.Backups.Count} backups ({string.Join(", ", run.Holds.Backups)})");

            await run.StageAsync(BreachStages.RotatingCredentials, input.Drill ? "naming the credentials a breach would rotate" : "rotating every managed credential, no grace period");
            run.Credentials = await RevokeCredentialsAsync(context, run, incident, settings, input.Drill);

            run.Stage(BreachStages.CapturingEvidence, "capturing evidence after containment");
            var contained = await context.CallActivityAsync<EvidenceManifest>(nameof(CaptureEvidenceActivity), new EvidenceInput(incident, run.TimelineSoFar, "contained"), run.Retry);
            run.Evidence.Add(contained);
            run.Add("evidence-captured", $"after containment: manifest {incident.EvidencePrefix}{contained.CaptureId}/manifest.json");

            // 4. A second person approves the restore of the chosen backup.
            var approver = unattended ? DrillApprover : await WaitForApprovalAsync(context, run, settings, logger);
            if (approver is null)
            {
                run.Outcome = BreachOutcome.ApprovalTimedOut;
                run.Error = $"no approval from anyone other than {input.RequestedBy} within {settings.ApprovalTimeout}; nothing was restored and {check.Target} stays isolated";
                run.Add("approval-timed-out", run.Error);
                logger.BreachApprovalTimedOut(context.InstanceId, settings.ApprovalTimeout, check.Target.ToString());
                await run.NotifyAsync("approval-timed-out", input.Drill ? NotificationSeverity.Warning : NotificationSeverity.Critical,
                    $"Incident {incident.Id}: restore not approved", $"{run.Error}. To give access back without a restore: {run.ReleaseSql}");
            }
            else
            {
                run.ApprovedBy = approver;
                run.Add("approved", $"restore of {check.Backup.Backup} approved by {approver}");

                // 5. Restore (kept isolated across the swap), verify, give access back.
                await run.StageAsync(BreachStages.Restoring, $"restoring {check.Backup.Backup} into {check.Target}");
                run.Restored = await context.CallActivityAsync<RestoreResult>(nameof(RestoreCleanBackupActivity), new BreachRestoreInput(incident, check.Backup.Backup), run.Retry);
                run.Add("restored", $"{run.Restored.Backup} restored into '{run.Restored.TargetDatabase}' on {run.Restored.Server} in {run.Restored.DurationSeconds:F1} s (staging copy compared, then renamed into place; still isolated)" +
                    (run.Restored.KeptAside is { } kept ? $"; the compromised database is kept as evidence as '{kept}' (CONNECT for the admin only; drop it by hand when the investigation is over)" : ""));

                await run.StageAsync(BreachStages.Verifying, "integrity of the restored database, and isolation still in place");
                run.Verification = await context.CallActivityAsync<BreachVerification>(nameof(VerifyBreachRestoreActivity), new BreachRestoreInput(incident, check.Backup.Backup), run.Retry);
                if (!run.Verification.Passed)
                {
                    var problems = run.Verification.Problems.Concat(run.Verification.StillCanConnect.Select(r => $"role {r} can connect before the release")).ToList();
                    throw new IntegrityException($"the restored database failed verification ({problems.Count} problems, first: {problems[0]}); it stays isolated");
                }
                run.Add("verified", "row and object counts match the backup, every index valid, the application still cut off");

                run.Stage(BreachStages.ResumingWrites, "giving CONNECT back as it was before isolation");
                await context.CallActivityAsync<IsolationRecord?>(nameof(ReleaseIsolationActivity), incident, run.Retry);
                run.WritesResumed = true;
                run.Outcome = BreachOutcome.Recovered;
                run.Add("writes-resumed", isolation.Record.Skipped ? "nothing to give back (isolation was off)" : $"CONNECT given back: {isolation.Record.ReleaseSql}");
                logger.BreachRecovered(context.InstanceId, check.Target.ToString(), check.Backup.Backup);
                await run.NotifyAsync("recovered", input.Drill ? NotificationSeverity.Info : NotificationSeverity.Warning,
                    $"Incident {incident.Id}: recovered",
                    $"{check.Target} restored from {check.Backup.Backup}, verified and reopened. GDPR notification still due by {BreachSince.Format(incident.NotifyBy)}.");
            }
        }
        catch (Exception e) when (e is TaskFailedException or RecoveryException)
        {
            run.Outcome = BreachOutcome.Failed;
            run.Error = $"{run.CurrentStage}: {WorkflowTasks.Describe(e)}";
            run.Add("failed", run.Error);
            logger.BreachFailed(context.InstanceId, run.Error, check.Target.ToString(), run.ReleaseSql);
            await run.StageAsync(BreachStages.Failed, $"BREACH RECOVERY FAILED at {run.Error}; {check.Target} stays isolated until someone gives access back");
            await run.NotifyAsync("failed", input.Drill ? NotificationSeverity.Warning : NotificationSeverity.Critical,
                $"Incident {incident.Id}: BREACH RECOVERY FAILED",
                $"{run.Error}. What was done stays done; {check.Target} stays isolated. After investigating, give access back with: {run.ReleaseSql}");
        }
        run.RecoveryFinishedAt = run.Now;

        // 6. The post-mortem skeleton, and the run's record.
        run.Stage(BreachStages.WritingPostMortem, "writing the post-mortem skeleton");
        try
        {
            run.PostMortem = await context.CallActivityAsync<string>(nameof(WritePostMortemActivity), run.PostMortemInput(settings), run.Retry);
            run.Add("post-mortem-written", run.PostMortem);
        }
        catch (TaskFailedException e)
        {
            run.Add("post-mortem-failed", WorkflowTasks.Describe(e));
        }
        await WorkflowTasks.RecordAsync(context, RecordName, run.Outcome == BreachOutcome.Recovered ? WorkflowOutcome.Succeeded : WorkflowOutcome.Failed, run.Report(null), logger);

        // 7. The incident stays open until the GDPR notification is acknowledged.
        await run.StageAsync(BreachStages.AwaitingGdprNotification,
            $"notify the supervisory authority by {BreachSince.Format(incident.NotifyBy)}, then POST .../breaches/{context.InstanceId}/gdpr-notified (reminders every {settings.ReminderInterval})");
        GdprNotificationResult? gdpr = null;
        try
        {
            gdpr = await reminders;
            run.Add("gdpr-notified", $"acknowledged by {gdpr.AcknowledgedBy}{(gdpr.WithinDeadline ? " within" : " AFTER")} the 72 h deadline; {gdpr.RemindersSent} reminders sent{(gdpr.Comment is { } c ? $" ({c})" : "")}");
            await context.CallActivityAsync<string>(nameof(RecordGdprAcknowledgementActivity), new GdprRecordInput(incident, gdpr), run.Retry);
        }
        catch (TaskFailedException e)
        {
            run.Add("gdpr-reminders-failed", WorkflowTasks.Describe(e));
        }
        run.Stage(BreachStages.Done, run.Outcome.ToString());
        // The workflow's end is not the incident's: the plan's steps 5, 7 and 8 (patch the hole, tell the affected
        // users, hold the post-mortem) are people's work, so the incident stays open for a person to resolve.
        await run.RecordIncidentStageAsync(run.Outcome == BreachOutcome.Recovered ? "recovered-follow-up" : "needs-attention",
            $"breach workflow ended: {run.Outcome}{(run.Error is { } failed ? $" ({failed})" : "")}. Before resolving this incident: patch the vulnerability, " +
            $"notify the affected users, review the post-mortem skeleton{(run.PostMortem is { } pm ? $" {pm}" : "")}; then 'floyo-dr incident resolve {run.IncidentId}' or POST /api/incidents/{run.IncidentId}/resolve.");
        logger.WorkflowFinished(nameof(BreachRecoveryOrchestrator), context.InstanceId, run.Outcome.ToString()!);
        return run.Report(gdpr);
    }

    /// <summary>Every managed credential rotated with no grace (the old ones may be the attacker's); in a drill, only named.</summary>
    private static async Task<CredentialRevocation> RevokeCredentialsAsync(TaskOrchestrationContext context, Run run, Incident incident, BreachSettings settings, bool drill)
    {
        var managed = await context.CallActivityAsync<ManagedCredentials>(nameof(FindManagedCredentialsActivity), incident, run.Retry);
        var names = (managed.DatabaseSecretExists ? [$"{managed.DatabaseSecret} ({managed.CurrentRole} -> {managed.NextRole})"] : Array.Empty<string>()).Concat(managed.RandomSecrets).ToList();
        if (drill)
        {
            run.Add("credentials-named", $"drill: production's credentials are not rotated; a breach would rotate {(names.Count == 0 ? "none (none managed)" : string.Join(", ", names))}");
            return new CredentialRevocation(true, managed, []);
        }
        if (!managed.DatabaseSecretExists)
        {
            run.Add("credential-not-managed", $"{managed.DatabaseSecret} is not in {managed.Store}: the application's database credential must be rotated by hand");
            await run.NotifyAsync("credential-not-managed", NotificationSeverity.Critical, $"Incident {incident.Id}: rotate the database credential by hand",
                $"The application's database credential is not managed by floyo-dr ({managed.DatabaseSecret} is not in {managed.Store}); rotate it by hand now.");
        }
        var rotated = new List<RotationOutcome>();
        for (var round = 1; round <= 2; round++)
        {
            var result = await context.CallSubOrchestratorAsync<RotationWorkflowResult>(nameof(RotationOrchestrator),
                new RotationWorkflowInput(DatabaseCredential: managed.DatabaseSecretExists, TaggedSecrets: true, GraceSeconds: settings.RotationGraceSeconds, RotationId: $"rot-{incident.Id}-{round}"),
                new SubOrchestrationOptions { InstanceId = $"{context.InstanceId}-rotation-{round}" });
            rotated.AddRange(result.Rotated);
            // Finishing an interrupted rotation is not enough: what it published predates the breach response.
            if (!result.Rotated.Any(r => r.Resumed))
            {
                break;
            }
        }
        foreach (var r in rotated)
        {
            run.Add("credential-rotated", $"{r.Secret} now version {r.NewVersion}{(r.Role is null ? "" : $" ({r.Role}; {r.RetiredRole} retired, {r.SessionsEnded} sessions ended)")}; {r.DisabledVersions.Count} versions disabled");
        }
        if (rotated.Count == 0)
        {
            run.Add("credential-rotated", "no managed credential to rotate");
        }
        return new CredentialRevocation(false, managed, rotated);
    }

    /// <summary>Waits at the approval gate for someone other than the requester; null when the time runs out first.</summary>
    private static Task<string?> WaitForApprovalAsync(TaskOrchestrationContext context, Run run, BreachSettings settings, ILogger logger)
    {
        var input = run.Input;
        return ApprovalGate.WaitAsync(context, new ApprovalRequest("breach recovery", input.RequestedBy, RequesterMayApprove: false, settings.ApprovalTimeout), logger,
            async deadline =>
            {
                run.Stage(BreachStages.AwaitingApproval,
                    $"restore {run.Backup!.Backup} (taken {BreachSince.Format(run.Backup.Timestamp)}) into {run.Target}: POST .../breaches/{context.InstanceId}/approve as someone other than {input.RequestedBy}",
                    deadline);
                run.Add("awaiting-approval", $"restore {run.Backup.Backup}; deadline {BreachSince.Format(deadline)}");
                await run.RecordIncidentStageAsync(BreachStages.AwaitingApproval, $"restore of {run.Backup.Backup} waits for a second person's approval until {BreachSince.Format(deadline)}");
                logger.BreachAwaitingApproval(context.InstanceId, run.Backup.Backup, input.RequestedBy, deadline);
                await run.NotifyAsync("approval-needed", input.Drill ? NotificationSeverity.Info : NotificationSeverity.Warning,
                    $"Incident {run.Incident!.Id}: restore needs approval",
                    $"Restore {run.Backup.Backup} (taken {BreachSince.Format(run.Backup.Timestamp)}, the newest clean backup before the breach) into {run.Target}. " +
                    $"Someone other than {input.RequestedBy} approves before {BreachSince.Format(deadline)} (HTTP: POST /api/breaches/{context.InstanceId}/approve; floyo-dr: at its prompt or with --approve-as).");
            },
            ignored => run.Add("approval-ignored", $"{ignored.Approver}: {ignored.Why}"));
    }

    private static string Passed(CleanBackupChoice choice) =>
        choice.PassedOver.Count == 0 ? "" : $"; passed over: {string.Join("; ", choice.PassedOver)}";


    /// <summary>The state of one run; every time in it is the orchestration's (replay-safe) clock.</summary>
    private sealed class Run(TaskOrchestrationContext context, BreachRecoveryInput input)
    {
        private readonly List<TimelineEntry> _timeline = [];
        private string _stage = BreachStages.Checking;

        public BreachRecoveryInput Input => input;

        public TaskOptions? Retry { get; } = WorkflowTasks.Options(input.Retry);

        public Incident? Incident { get; private set; }

        public BreachTarget? Target { get; private set; }

        public CleanBackupChoice? Backup { get; private set; }

        public IsolationResult? Isolation { get; set; }

        public HeldBackups? Holds { get; set; }

        public CredentialRevocation? Credentials { get; set; }

        public List<EvidenceManifest> Evidence { get; } = [];

        public string? ApprovedBy { get; set; }

        public RestoreResult? Restored { get; set; }

        public BreachVerification? Verification { get; set; }

        public bool WritesResumed { get; set; }

        public BreachOutcome? Outcome { get; set; }

        public string? Error { get; set; }

        public string? PostMortem { get; set; }

        /// <summary>The communication plan's incident this breach opened (null in a drill, or when it could not be opened).</summary>
        public string? IncidentId { get; set; }

        public DateTimeOffset RecoveryFinishedAt { get; set; }

        public DateTimeOffset Now => new(context.CurrentUtcDateTime, TimeSpan.Zero);

        public string CurrentStage => _stage;

        public IReadOnlyList<TimelineEntry> TimelineSoFar => [.. _timeline];

        /// <summary>What reopens the database by hand, while it is isolated.</summary>
        public string ReleaseSql => Isolation is { Record.Skipped: false } i && !WritesResumed ? i.Record.ReleaseSql : "-- nothing to give back";

        public void Begin(BreachCheck check)
        {
            Incident = check.Incident;
            Target = check.Target;
            Backup = check.Backup;
        }

        public void Add(string step, string detail) => _timeline.Add(new TimelineEntry(Now, step, detail));

        public void Stage(string stage, string? detail, DateTime? approvalDeadline = null)
        {
            _stage = stage;
            context.SetCustomStatus(new BreachProgress(stage, detail, input.RequestedBy, input.Drill, Incident?.Id, Target, Backup,
                approvalDeadline is { } d ? new DateTimeOffset(d, TimeSpan.Zero) : null, Incident?.NotifyBy, Outcome, PostMortem,
                Isolation is null ? null : ReleaseSql));
        }

        /// <summary>Shows the stage, and writes it to the incident (its communication workflow tells the team).</summary>
        public async Task StageAsync(string stage, string? detail)
        {
            Stage(stage, detail);
            await RecordIncidentStageAsync(stage, detail);
        }

        public Task RecordIncidentStageAsync(string stage, string? message) =>
            IncidentId is { } id ? WorkflowTasks.RecordIncidentStageAsync(context, id, "breach recovery workflow", stage, message) : Task.CompletedTask;

        public Task<NotificationReceipt?> NotifyAsync(string key, NotificationSeverity severity, string title, string text) =>
            WorkflowTasks.NotifyAsync(context, key, severity, input.Drill ? $"[DRILL] {title}" : title, text, Incident?.Id);

        public PostMortemInput PostMortemInput(BreachSettings settings) => new(
            Incident!, TimelineSoFar, Backup, Isolation, Credentials, Evidence.LastOrDefault(), Holds, Outcome, Target, ApprovedBy, Error, settings.ReminderInterval, Restored?.KeptAside);

        public BreachReport Report(GdprNotificationResult? gdpr) => new(
            context.InstanceId, Incident!.Id, Outcome ?? BreachOutcome.Failed, input.Drill, input.RequestedBy, input.Reason,
            Incident.Since, Incident.StartedAt, RecoveryFinishedAt, Target!, Backup!, ApprovedBy, Isolation, Holds, Credentials, [.. Evidence],
            Restored, Verification, WritesResumed, PostMortem, Incident.NotifyBy, gdpr, TimelineSoFar, Error,
            Isolation is null ? null : ReleaseSql);
    }
}
