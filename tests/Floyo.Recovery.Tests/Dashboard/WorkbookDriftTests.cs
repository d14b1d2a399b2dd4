using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Dashboard;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Tests.Dashboard;

/// <summary>
/// The dashboard's five views against the workbook's KQL, read from infra/bicep/modules/workbook.bicep: the same
/// output columns in the same order, the same metric names and event ids, the same bins, lookback, top and targets.
/// Change a query and this fails until the dashboard follows (and the other way round).
/// </summary>
[Trait("Tier", "Fast")]
public sealed partial class WorkbookDriftTests
{
    private static readonly string Bicep = File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "infra", "bicep", "modules", "workbook.bicep"));

    /// <summary>The KQL text of each view, by the name the workbook gives it in its <c>queries</c> array.</summary>
    private static readonly Dictionary<string, string> Queries = QueryTexts();

    public static TheoryData<string> Views => [.. WorkbookViews.All.Select(v => v.Name)];

    [Fact]
    public void The_dashboard_has_exactly_the_workbooks_views_in_its_order()
    {
        Assert.Equal(Queries.Keys, WorkbookViews.All.Select(v => v.Name));
    }

    [Theory]
    [MemberData(nameof(Views))]
    public void Each_view_has_the_querys_output_columns_in_order(string name)
    {
        var view = WorkbookViews.All.Single(v => v.Name == name);
        Assert.Equal(OutputColumns(Queries[name]), view.Columns);
    }

    [Theory]
    [MemberData(nameof(Views))]
    public void Each_view_reads_the_querys_metrics_and_event_ids(string name)
    {
        var view = WorkbookViews.All.Single(v => v.Name == name);
        var query = Queries[name];
        Assert.Equal(MetricName().Matches(query).Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal), view.Metrics.Order(StringComparer.Ordinal));
        Assert.Equal(EventIdLiteral().Matches(query).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().Order(), view.EventIds.Order());
    }

    [Theory]
    [MemberData(nameof(Views))]
    public void Each_view_bins_time_as_the_query_does(string name)
    {
        var view = WorkbookViews.All.Single(v => v.Name == name);
        var bins = Bin().Matches(Queries[name]).Select(m => Kql(m.Groups[1].Value)).ToList();
        Assert.Equal(view.Bin is { } bin ? [bin] : [], bins);
    }

    [Fact]
    public void Lookback_top_targets_and_the_failure_rule_are_the_querys()
    {
        Assert.Contains($"TimeGenerated > ago({WorkbookViews.IncidentLookback.TotalDays.ToString(CultureInfo.InvariantCulture)}d)", Queries["open-incidents"], StringComparison.Ordinal);
        Assert.Contains("| where event == \"8800\"", Queries["open-incidents"], StringComparison.Ordinal);
        Assert.Contains($"| top {WorkbookViews.DrillsShown} by at desc", Queries["last-drills"], StringComparison.Ordinal);
        Assert.Contains("durationMs: 2592000000", Bicep, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromDays(WorkbookViews.DefaultDays), TimeSpan.FromMilliseconds(2592000000));

        // The workbook's default targets are the app's (RTO_TARGET / RPO_TARGET), which the dashboard uses.
        var defaults = new RecoveryTargetOptions();
        Assert.Contains($"param rtoTargetHours int = {defaults.RtoTarget.TotalHours.ToString(CultureInfo.InvariantCulture)}", Bicep, StringComparison.Ordinal);
        Assert.Contains($"param rpoTargetHours int = {defaults.RpoTarget.TotalHours.ToString(CultureInfo.InvariantCulture)}", Bicep, StringComparison.Ordinal);

        // Failures are Error/Critical events (SeverityLevel >= 3) of Floyo.* categories, plus check findings:
        // every event the dashboard counts there is logged at Error or above, or is the finding.
        Assert.Contains("SeverityLevel >= 3", Queries["failures"], StringComparison.Ordinal);
        Assert.Contains("startswith \"Floyo.\"", Queries["failures"], StringComparison.Ordinal);
        foreach (var id in new[] { 5002, 6300, 6303 })
        {
            Assert.True(LevelOf(id) >= LogLevel.Error, $"event {id} is counted as a failure but logged at {LevelOf(id)}");
        }
        Assert.Equal(LogLevel.Warning, LevelOf(9201));
        Assert.Equal(LogLevel.Information, LevelOf(8800));
        Assert.Equal(LogLevel.Information, LevelOf(8802));
    }

    [Fact]
    public void The_column_reader_follows_summarize_extend_and_project()
    {
        Assert.Equal(["k", "TimeGenerated", "n", "x"], OutputColumns("T\n| extend a = 1\n| summarize n = count() by k, bin(TimeGenerated, 1h)\n| extend x = n * 2\n| order by k asc"));
        Assert.Equal(["key", "TimeGenerated", "event"], OutputColumns("T\n| summarize arg_max(TimeGenerated, event) by key"));
        Assert.Equal(["b", "c"], OutputColumns("T\n| summarize n = count(), m = max(f(x, y)) by b\n| project b, c = n"));
    }

    private static LogLevel LevelOf(int eventId) =>
        typeof(DashboardBuilder).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .Single(a => a is not null && a.EventId == eventId)!.Level;

    private static Dictionary<string, string> QueryTexts()
    {
        var variables = QueryVariable().Matches(Bicep).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim(), StringComparer.Ordinal);
        return QueryEntry().Matches(Bicep).ToDictionary(m => m.Groups[1].Value, m => variables[m.Groups[2].Value], StringComparer.Ordinal);
    }

    /// <summary>
    /// The columns a query returns: <c>summarize</c> gives its by-columns then its aggregates (arg_max's arguments),
    /// <c>extend</c> appends, <c>project</c> replaces; where, order, top and render keep them.
    /// </summary>
    internal static List<string> OutputColumns(string query)
    {
        List<string>? columns = null;
        foreach (var stage in Regex.Split(Regex.Replace(query, @"\s+", " "), @" ?\| ").Skip(1).Select(s => s.Trim()))
        {
            var (op, rest) = (stage.Split(' ', 2)[0], stage.Split(' ', 2).ElementAtOrDefault(1) ?? "");
            switch (op)
            {
                case "extend" when columns is not null:
                    columns.AddRange(TopLevel(rest, ',').Select(NameOf));
                    break;
                case "project":
                    columns = [.. TopLevel(rest, ',').Select(NameOf)];
                    break;
                case "summarize":
                    var parts = TopLevel(rest, ' ');
                    var by = parts.LastIndexOf("by");
                    var aggregates = string.Join(' ', by < 0 ? parts : parts.Take(by));
                    var groups = by < 0 ? [] : TopLevel(string.Join(' ', parts.Skip(by + 1)), ',').Select(NameOf);
                    columns = [.. groups, .. TopLevel(aggregates, ',').SelectMany(a => a.StartsWith("arg_max(", StringComparison.Ordinal)
                        ? TopLevel(a["arg_max(".Length..^1], ',')
                        : [NameOf(a)])];
                    break;
            }
        }
        return columns ?? throw new InvalidOperationException($"no summarize or project in: {query}");
    }

    private static string NameOf(string item)
    {
        var parts = TopLevel(item, '=');
        if (parts.Count > 1)
        {
            return parts[0].Trim();
        }
        return Bin().IsMatch(item) && item.StartsWith("bin(", StringComparison.Ordinal) ? "TimeGenerated" : item.Trim();
    }

    /// <summary>Splits at <paramref name="separator"/> outside parentheses and string literals.</summary>
    private static List<string> TopLevel(string text, char separator)
    {
        var parts = new List<string>();
        var (depth, quoted, start) = (0, false, 0);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '(')
            {
                depth++;
            }
            else if (!quoted && c == ')')
            {
                depth--;
            }
            else if (!quoted && depth == 0 && c == separator)
            {
                parts.Add(text[start..i].Trim());
                start = i + 1;
            }
        }
        parts.Add(text[start..].Trim());
        return [.. parts.Where(p => p.Length > 0)];
    }

    private static TimeSpan Kql(string literal) => literal[^1] switch
    {
        'd' => TimeSpan.FromDays(double.Parse(literal[..^1], CultureInfo.InvariantCulture)),
        'h' => TimeSpan.FromHours(double.Parse(literal[..^1], CultureInfo.InvariantCulture)),
        'm' => TimeSpan.FromMinutes(double.Parse(literal[..^1], CultureInfo.InvariantCulture)),
        _ => throw new FormatException($"not a KQL timespan: {literal}"),
    };

    [GeneratedRegex(@"var (\w+) = [^\n]*?'''(.*?)'''", RegexOptions.Singleline)]
    private static partial Regex QueryVariable();

    [GeneratedRegex(@"\{ name: '([a-z-]+)', title: .*?, query: (\w+),")]
    private static partial Regex QueryEntry();

    [GeneratedRegex("\"(floyo\\.dr\\.[a-z_.]+)\"")]
    private static partial Regex MetricName();

    [GeneratedRegex("\"(\\d{4})\"")]
    private static partial Regex EventIdLiteral();

    [GeneratedRegex(@"bin\(TimeGenerated, (\d+[dhm])\)")]
    private static partial Regex Bin();
}
