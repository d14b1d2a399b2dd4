using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows;
using Floyo.Recovery.Workflows.Activities;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Dashboard;

/// <summary>
/// The workbook's five views (<see cref="WorkbookViews"/>) computed with the same columns, bins, targets and
/// rules from what the app records in its own store: backup metadata, drill reports, the notification ledger
/// and the workflows' run records. The rendered report the README shows, where no Log Analytics workspace is.
/// </summary>
public sealed class DashboardBuilder(
    BackupCatalog catalog,
    BaseBackupCatalog baseBackups,
    DrillReports drills,
    IBackupStore store,
    IOptions<DatabaseOptions> database,
    IOptions<RecoveryTargetOptions> targets,
    TimeProvider clock)
{
    public const int MaxDays = 400;

    // The logger category of each workflow's WorkflowFailed event, which the failures view names in "what".
    private static readonly Dictionary<string, string> Categories = new(StringComparer.Ordinal)
    {
        [BackupOrchestrator.RecordName] = typeof(BackupOrchestrator).FullName!,
        [RestoreOrchestrator.RecordName] = typeof(RestoreOrchestrator).FullName!,
        [BreachRecoveryOrchestrator.RecordName] = typeof(BreachRecoveryOrchestrator).FullName!,
        [ChecksumSweepOrchestrator.RecordName] = typeof(ChecksumSweepOrchestrator).FullName!,
        [RetentionCleanupOrchestrator.RecordName] = typeof(RetentionCleanupOrchestrator).FullName!,
        [FilesSnapshotOrchestrator.RecordName] = typeof(FilesSnapshotOrchestrator).FullName!,
        [ConfigExportOrchestrator.RecordName] = typeof(ConfigExportOrchestrator).FullName!,
    };

    private static readonly string NotifierCategory = typeof(WebhookNotifier).FullName!;

    public async Task<DashboardReport> BuildAsync(int days, CancellationToken ct)
    {
        if (days is < 1 or > MaxDays)
        {
            throw new UsageException($"--days must be between 1 and {MaxDays}, not {days}");
        }
        var now = clock.GetUtcNow();
        var from = now - TimeSpan.FromDays(days);
        var entries = await catalog.ListAsync(ct);
        var ledger = await ReadLedgerAsync(ct);
        return new DashboardReport(now, from, store.Location,
        [
            await BackupsPerDayAsync(entries, from, ct),
            RecoveryPointAge(entries, from, now),
            await LastDrillsAsync(from, ct),
            OpenIncidents(ledger, now),
            await FailuresAsync(ledger, from, ct),
        ]);
    }

    private async Task<DashboardTable> BackupsPerDayAsync(IReadOnlyList<BackupEntry> entries, DateTimeOffset from, CancellationToken ct)
    {
        var db = ProtectedDatabase.Name(database) ?? "";
        var samples = entries
            .Where(e => e.Metadata.Type == BackupType.Full)
            .Select(e => (At: e.Metadata.Timestamp.AddSeconds(e.Metadata.DurationSeconds), e.Metadata.Database, Kind: "full", e.Metadata.DurationSeconds, Stored: e.Metadata.SizeBytes, Source: e.Metadata.DumpBytes))
            .Concat((await baseBackups.ListAsync(ct)).Select(b => (At: b.Metadata.StopTime, Database: db, Kind: BaseBackupMetadata.Type, b.Metadata.DurationSeconds, Stored: b.Metadata.SizeBytes, Source: b.Metadata.TarBytes)))
            .Where(s => s.At >= from);
        var rows = samples
            .GroupBy(s => (Day: Bin(s.At, TimeSpan.FromDays(1)), s.Database, s.Kind))
            .OrderByDescending(g => g.Key.Day).ThenBy(g => g.Key.Database, StringComparer.Ordinal).ThenBy(g => g.Key.Kind, StringComparer.Ordinal)
            .Select(g =>
            {
                var ratios = g.Where(s => s.Stored > 0 && s.Source > 0).Select(s => (double)s.Source / s.Stored).ToList();
                return (IReadOnlyList<object?>)
                [
                    g.Key.Day, g.Key.Database, g.Key.Kind, g.Count(),
                    Round(g.Sum(s => s.DurationSeconds) / g.Count(), 1), Round(g.Max(s => s.DurationSeconds), 1),
                    Round(g.Sum(s => s.Stored) / 1048576.0, 1), ratios.Count == 0 ? null : Round(ratios.Average(), 2),
                ];
            })
            .ToList();
        return new DashboardTable(WorkbookViews.BackupsPerDay, rows);
    }

    /// <summary>What the recovery-point check would have recorded at each 15-minute tick (and now): age of the newest verified dump taken by then.</summary>
    private DashboardTable RecoveryPointAge(IReadOnlyList<BackupEntry> entries, DateTimeOffset from, DateTimeOffset now)
    {
        var bin = WorkbookViews.RecoveryPointAge.Bin!.Value;
        var db = ProtectedDatabase.Name(database);
        var points = entries
            .Where(e => e.IsGood && e.Verified && (db is null || e.Metadata.Database == db))
            .Select(e => (Available: e.Metadata.Timestamp.AddSeconds(e.Metadata.DurationSeconds), Point: e.Metadata.Timestamp))
            .OrderBy(p => p.Available)
            .ToList();
        if (points.Count == 0)
        {
            return new DashboardTable(WorkbookViews.RecoveryPointAge, []);
        }
        var ticks = new List<DateTimeOffset>();
        var start = Bin(points[0].Available > from ? points[0].Available : from, bin);
        for (var t = start; t <= now; t += bin)
        {
            ticks.Add(t);
        }
        ticks.Add(now);
        var rows = ticks
            .Select(t => (Tick: t, Point: points.Where(p => p.Available <= t).Select(p => (DateTimeOffset?)p.Point).Max()))
            .Where(s => s.Point is not null)
            .GroupBy(s => Bin(s.Tick, bin))
            .OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<object?>)[g.Key, "dump", Round(g.Max(s => (s.Tick - s.Point!.Value).TotalSeconds) / 3600.0, 2)])
            .ToList();
        return new DashboardTable(WorkbookViews.RecoveryPointAge, rows);
    }

    private async Task<DashboardTable> LastDrillsAsync(DateTimeOffset from, CancellationToken ct)
    {
        var rtoTarget = targets.Value.RtoTarget.TotalMinutes;
        var rpoTarget = targets.Value.RpoTarget.TotalMinutes;
        var rows = (await drills.HistoryAsync(ct))
            .Where(r => r.FinishedAt >= from)
            .GroupBy(r => (At: Bin(r.FinishedAt, WorkbookViews.LastDrills.Bin!.Value), r.Scenario, r.Status))
            .OrderByDescending(g => g.Key.At)
            .Take(WorkbookViews.DrillsShown)
            .Select(g =>
            {
                var rto = g.Max(r => r.Rto?.TotalSeconds) is { } r ? Round(r / 60.0, 1) : (double?)null;
                var rpo = g.Max(r => r.Rpo?.TotalSeconds) is { } p ? Round(p / 60.0, 1) : (double?)null;
                return (IReadOnlyList<object?>)[g.Key.At, g.Key.Scenario, g.Key.Status, rto, rpo, rtoTarget, rpoTarget, rto <= rtoTarget ? true : rto is null ? null : false, rpo <= rpoTarget ? true : rpo is null ? null : false];
            })
            .ToList();
        return new DashboardTable(WorkbookViews.LastDrills, rows);
    }

    /// <summary>A key is open when its newest event in 90 days is "opened" (8800) rather than "resolved" (8802).</summary>
    private static DashboardTable OpenIncidents(IReadOnlyList<LedgerEntry> ledger, DateTimeOffset now)
    {
        var rows = ledger
            .Where(e => e.IncidentEvent is not null && e.At > now - WorkbookViews.IncidentLookback)
            .GroupBy(e => e.Key!, StringComparer.Ordinal)
            .Select(g => g.OrderBy(e => e.At).ThenBy(e => e.Resolves).Last())
            .Where(e => e.IncidentEvent == IncidentAlerts.OpenedEventId)
            .OrderByDescending(e => e.At)
            .Select(e => (IReadOnlyList<object?>)[e.At, e.Key, IncidentAlerts.OpenedMessage(e.Key!, e.Severity, e.Title, e.Deliveries)])
            .ToList();
        return new DashboardTable(WorkbookViews.OpenIncidents, rows);
    }

    private async Task<DashboardTable> FailuresAsync(IReadOnlyList<LedgerEntry> ledger, DateTimeOffset from, CancellationToken ct)
    {
        var events = new List<(DateTimeOffset At, int EventId, string What, string Message)>();
        foreach (var run in await ReadFailedRunsAsync(ct))
        {
            var category = Categories.GetValueOrDefault(run.Workflow) ?? $"Floyo.Recovery.Workflows ({run.Workflow})";
            events.Add((run.At, WorkflowLogs.WorkflowFailedId, category, $"{category[(category.LastIndexOf('.') + 1)..]} {run.InstanceId} failed: {run.Error}"));
        }
        foreach (var e in ledger)
        {
            if (e.Severity == NotificationSeverity.Critical && !e.Resolves)
            {
                events.Add((e.At, WebhookNotifier.AlertEventId, NotifierCategory, $"ALERT {e.Id}: {e.Title}: {e.Text}"));
            }
            foreach (var failed in e.Deliveries.Where(d => !d.Delivered))
            {
                events.Add((e.At, WebhookNotifier.ChannelFailedEventId, NotifierCategory, $"Notification {e.Id} did not reach {failed.Channel}: {failed.Error}"));
            }
            if (e.IncidentEvent == IncidentAlerts.OpenedEventId && e.Key!.StartsWith(CheckResult.KeyPrefix, StringComparison.Ordinal))
            {
                var check = e.Key[CheckResult.KeyPrefix.Length..];
                events.Add((e.At, CheckLogs.CheckFindingId, $"check {check}", $"Check {check} found a problem ({e.Severity}): {e.Text}"));
            }
        }
        var rows = events
            .Where(e => e.At >= from)
            .GroupBy(e => (Day: Bin(e.At, TimeSpan.FromDays(1)), e.EventId, e.What))
            .Select(g => (g.Key, Count: g.Count(), Last: g.Max(e => e.At), Example: g.OrderBy(e => e.At).Last().Message))
            .OrderByDescending(g => g.Key.Day).ThenByDescending(g => g.Count).ThenBy(g => g.Key.EventId).ThenBy(g => g.Key.What, StringComparer.Ordinal)
            .Select(g => (IReadOnlyList<object?>)[g.Key.Day, g.Key.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture), g.Key.What, g.Count, g.Last, g.Example])
            .ToList();
        return new DashboardTable(WorkbookViews.Failures, rows);
    }

    /// <summary>One notification record (<c>notifications/&lt;id&gt;.json</c>): what was sent, when, under which key, and what each channel answered.</summary>
    private sealed record LedgerEntry(string Id, NotificationSeverity Severity, string Title, string Text, DateTimeOffset At, string? Key, bool Resolves, IReadOnlyList<ChannelDelivery> Deliveries)
    {
        /// <summary>8800 or 8802 for IncidentAlerts' own sends (ids "alert-…"); null for other notices, including the "channel down" follow-up.</summary>
        public int? IncidentEvent => Key is null || !Id.StartsWith("alert-", StringComparison.Ordinal) ? null
            : Resolves ? IncidentAlerts.ResolvedEventId
            : Id.EndsWith("-channels", StringComparison.Ordinal) ? null
            : IncidentAlerts.OpenedEventId;
    }

    private sealed record FailedRun(string Workflow, string InstanceId, DateTimeOffset At, string Error);

    private async Task<IReadOnlyList<LedgerEntry>> ReadLedgerAsync(CancellationToken ct)
    {
        var entries = new List<LedgerEntry>();
        await foreach (var stored in store.ListAsync(WebhookNotifier.Prefix, ct))
        {
            // The ledger itself, not the open-incident records under notifications/open/.
            if (stored.Name.IndexOf('/', WebhookNotifier.Prefix.Length) >= 0 || !stored.Name.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                using var document = await ReadJsonAsync(stored.Name, ct);
                var n = document.RootElement.GetProperty("notification");
                entries.Add(new LedgerEntry(
                    n.GetProperty("id").GetString()!,
                    n.GetProperty("severity").Deserialize<NotificationSeverity>(Json.Options),
                    n.GetProperty("title").GetString() ?? "",
                    n.GetProperty("text").GetString() ?? "",
                    n.GetProperty("at").GetDateTimeOffset(),
                    n.TryGetProperty("dedupKey", out var key) ? key.GetString() : null,
                    n.TryGetProperty("resolves", out var resolves) && resolves.GetBoolean(),
                    document.RootElement.TryGetProperty("deliveries", out var d) ? d.Deserialize<List<ChannelDelivery>>(Json.Options) ?? [] : []));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ObjectNotFoundException)
            {
                // A damaged or vanished record is no event the log would have held either.
            }
        }
        return entries;
    }

    private async Task<IReadOnlyList<FailedRun>> ReadFailedRunsAsync(CancellationToken ct)
    {
        var runs = new List<FailedRun>();
        await foreach (var stored in store.ListAsync(RecordRunActivity.Prefix, ct))
        {
            try
            {
                using var document = await ReadJsonAsync(stored.Name, ct);
                var root = document.RootElement;
                if (!string.Equals(root.GetProperty("outcome").GetString(), "failed", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                var error = root.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Object && result.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String
                    ? e.GetString()! : "(no error recorded)";
                runs.Add(new FailedRun(root.GetProperty("workflow").GetString()!, root.GetProperty("instanceId").GetString()!, root.GetProperty("at").GetDateTimeOffset(), error));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ObjectNotFoundException)
            {
                // As above: not a run the workspace would count.
            }
        }
        return runs;
    }

    private async Task<JsonDocument> ReadJsonAsync(string name, CancellationToken ct)
    {
        await using var stream = await store.OpenReadAsync(name, ct);
        return await JsonDocument.ParseAsync(stream, cancellationToken: ct);
    }

    /// <summary>KQL's bin(): the start of the UTC interval holding <paramref name="at"/>.</summary>
    internal static DateTimeOffset Bin(DateTimeOffset at, TimeSpan size)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % size.Ticks), TimeSpan.Zero);
    }

    /// <summary>KQL's round(): half away from zero.</summary>
    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
