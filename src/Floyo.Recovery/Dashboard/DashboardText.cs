using System.Globalization;
using System.Text;

namespace Floyo.Recovery.Dashboard;

/// <summary>The report as text tables, one per view, for a terminal or a README; and as JSON rows keyed by the workbook's column names.</summary>
public static class DashboardText
{
    /// <summary>The recovery-point series is a time chart in the portal; as text only its newest bins are listed.</summary>
    public const int RecoveryPointRowsShown = 12;

    // Wide enough for an event's message; the last column is not padded, so it may run longer.
    private const int MaxCell = 90;

    private const int MaxLastCell = 160;

    public static string Render(DashboardReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Floyo DR dashboard: {report.Store}, {report.From:yyyy-MM-dd HH:mm} to {report.At:yyyy-MM-dd HH:mm} UTC").Append('\n');
        foreach (var table in report.Views)
        {
            text.Append('\n').Append(CultureInfo.InvariantCulture, $"== {table.View.Title} [{table.View.Name}]").Append('\n');
            var rows = table.Rows;
            if (table.View.Name == WorkbookViews.RecoveryPointAge.Name && rows.Count > RecoveryPointRowsShown)
            {
                var ages = rows.Select(r => (double)r[2]!).ToList();
                var peak = rows[ages.IndexOf(ages.Max())];
                text.Append(CultureInfo.InvariantCulture, $"{rows.Count} bins; peak {Cell(peak[2], MaxCell)} h in the bin of {Cell(peak[0], MaxCell)}; the newest {RecoveryPointRowsShown}:").Append('\n');
                rows = [.. rows.Skip(rows.Count - RecoveryPointRowsShown)];
            }
            if (rows.Count == 0)
            {
                text.Append("(no rows)\n");
                continue;
            }
            var last = table.View.Columns.Count - 1;
            var cells = rows.Select(r => r.Select((v, i) => Cell(v, i == last ? MaxLastCell : MaxCell)).ToList()).ToList();
            var widths = table.View.Columns.Select((c, i) => Math.Max(c.Length, cells.Max(r => r[i].Length))).ToList();
            text.Append(Line(table.View.Columns, widths)).Append('\n');
            text.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
            foreach (var row in cells)
            {
                text.Append(Line(row, widths)).Append('\n');
            }
        }
        text.Append("\nFrom this store's own records, where the workbook reads the workspace:\n");
        foreach (var note in DashboardReport.Notes)
        {
            text.Append("- ").Append(note).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>JSON-ready: each view's rows as objects keyed by its columns, in their order.</summary>
    public static object ToJson(DashboardReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new
        {
            report.At,
            report.From,
            report.Store,
            views = report.Views.Select(t => new
            {
                name = t.View.Name,
                title = t.View.Title,
                columns = t.View.Columns,
                rows = t.Rows.Select(r => t.View.Columns.Select((c, i) => (c, r[i])).ToDictionary(p => p.c, p => p.Item2, StringComparer.Ordinal)),
            }),
            notes = DashboardReport.Notes,
        };
    }

    private static string Line(IEnumerable<string> cells, IReadOnlyList<int> widths) =>
        string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();

    private static string Cell(object? value, int max)
    {
        var text = value switch
        {
            null => "",
            DateTimeOffset at when at.TimeOfDay == TimeSpan.Zero => at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            DateTimeOffset at when at.Second == 0 && at.Millisecond == 0 => at.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            DateTimeOffset at => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            double d => d.ToString("0.##", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        text = text.ReplaceLineEndings(" ");
        return text.Length <= max ? text : text[..(max - 1)] + "…";
    }
}
