using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Drills;

/// <summary>
/// Drill reports, JSON for machines and Markdown for people, stored write-once under <c>reports/drills/</c>.
/// A data-centre drill treats the primary store as gone, so its report goes to the second copy; history
/// and reports are read from both.
/// </summary>
public sealed partial class DrillReports(BackupStores stores, ILogger<DrillReports> logger)
{
    private static readonly TimeSpan Keep = TimeSpan.FromDays(400);

    public async Task SaveAsync(DrillReport report, CancellationToken ct)
    {
        var store = report.Scenario == DrillScenario.DatacenterOutage && stores.HasSecondary ? stores.Secondary! : stores.Primary;
        var retention = new ObjectRetention(report.FinishedAt + Keep);
        await store.WriteAllAsync(report.JsonName, JsonSerializer.SerializeToUtf8Bytes(report, Json.Options), retention, ct);
        await store.WriteAllAsync(report.MarkdownName, Encoding.UTF8.GetBytes(DrillReportMarkdown.Render(report)), retention, ct);
        DrMetrics.RecordDrill(report.Scenario, report.Status, report.Rto, report.Rpo);
    }

    /// <summary>Every stored drill, newest first.</summary>
    public async Task<IReadOnlyList<DrillReport>> HistoryAsync(CancellationToken ct)
    {
        var reports = new Dictionary<string, DrillReport>(StringComparer.Ordinal);
        RecoveryException? unreachable = null;
        var read = 0;
        foreach (var store in Stores())
        {
            try
            {
                await ReadAllAsync(store, reports, ct);
                read++;
            }
            catch (RecoveryException e)
            {
                // One store gone (the outage a drill rehearses) must not hide the reports in the other.
                unreachable ??= e;
            }
        }
        return read == 0 && unreachable is not null ? throw unreachable : [.. reports.Values.OrderByDescending(r => r.FinishedAt)];
    }

    public async Task<string> MarkdownAsync(string id, CancellationToken ct)
    {
        if (id.Contains('/', StringComparison.Ordinal) || id.StartsWith('.'))
        {
            throw new UsageException($"'{id}' is not a drill id (see 'floyo-dr drill history')");
        }
        foreach (var store in Stores())
        {
            if (await store.GetAsync($"{DrillReport.Prefix}{id}.md", ct) is not null)
            {
                await using var stream = await store.OpenReadAsync($"{DrillReport.Prefix}{id}.md", ct);
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return await reader.ReadToEndAsync(ct);
            }
        }
        throw new NotFoundException($"no drill report '{id}' (see 'floyo-dr drill history')");
    }

    /// <summary>Every report in one store; one that is damaged, or not the drill its file is named for, is skipped with a warning.</summary>
    private async Task ReadAllAsync(IBackupStore store, Dictionary<string, DrillReport> reports, CancellationToken ct)
    {
        await foreach (var item in store.ListAsync(DrillReport.Prefix, ct))
        {
            if (!item.Name.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }
            var read = await StoredJson.ReadAsync<DrillReport>(store, item.Name, ct);
            var problem = read.Problem ?? (read.Value is { } candidate ? Untrusted(candidate, item.Name) : null);
            if (problem is not null)
            {
                LogUntrustedReport(logger, item.Name, problem, store.Location);
            }
            else if (read.Value is { } report)
            {
                reports.TryAdd(report.Id, report);
            }
        }
    }

    private static string? Untrusted(DrillReport report, string name) => report switch
    {
        { Id: null } or { Scenario: null } or { Status: null } or { Steps: null } or { Failures: null } or { Targets: null } => "lacks required fields",
        _ when report.JsonName != name => $"is the report of drill '{report.Id}', not of the one its name says",
        _ => null,
    };

    [LoggerMessage(EventId = 6401, Level = LogLevel.Warning, Message = "Ignored drill report {Object} in {Location}: it {Problem}")]
    private static partial void LogUntrustedReport(ILogger logger, string @object, string problem, string location);

    private IEnumerable<IBackupStore> Stores() => stores.HasSecondary ? [stores.Primary, stores.Secondary!] : [stores.Primary];
}
