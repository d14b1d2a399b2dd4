using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Drills;

/// <summary>Drill reports, JSON for machines and Markdown for people, stored write-once under <c>reports/drills/</c>.</summary>
public sealed class DrillReports(IBackupStore store)
{
    private static readonly TimeSpan Keep = TimeSpan.FromDays(400);

    public async Task SaveAsync(DrillReport report, CancellationToken ct)
    {
        var retention = new ObjectRetention(report.FinishedAt + Keep);
        await store.WriteAllAsync(report.JsonName, JsonSerializer.SerializeToUtf8Bytes(report, Json.Options), retention, ct);
        await store.WriteAllAsync(report.MarkdownName, Encoding.UTF8.GetBytes(DrillReportMarkdown.Render(report)), retention, ct);
    }

    /// <summary>Every stored drill, newest first.</summary>
    public async Task<IReadOnlyList<DrillReport>> HistoryAsync(CancellationToken ct)
    {
        var reports = new List<DrillReport>();
        await foreach (var item in store.ListAsync(DrillReport.Prefix, ct))
        {
            if (item.Name.EndsWith(".json", StringComparison.Ordinal))
            {
                await using var stream = await store.OpenReadAsync(item.Name, ct);
                if (await JsonSerializer.DeserializeAsync<DrillReport>(stream, Json.Options, ct) is { } report)
                {
                    reports.Add(report);
                }
            }
        }
        return [.. reports.OrderByDescending(r => r.FinishedAt)];
    }

    public async Task<string> MarkdownAsync(string id, CancellationToken ct)
    {
        if (id.Contains('/', StringComparison.Ordinal) || id.StartsWith('.'))
        {
            throw new RecoveryException($"'{id}' is not a drill id (see 'floyo-dr drill history')");
        }
        try
        {
            await using var stream = await store.OpenReadAsync($"{DrillReport.Prefix}{id}.md", ct);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(ct);
        }
        catch (ObjectNotFoundException)
        {
            throw new RecoveryException($"no drill report '{id}' in {store.Location} (see 'floyo-dr drill history')");
        }
    }
}
