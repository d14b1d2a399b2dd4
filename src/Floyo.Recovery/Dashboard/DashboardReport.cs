namespace Floyo.Recovery.Dashboard;

/// <summary>One view's rows, each cell in the order of <see cref="WorkbookView.Columns"/> (null where KQL would give an empty cell).</summary>
public sealed record DashboardTable(WorkbookView View, IReadOnlyList<IReadOnlyList<object?>> Rows)
{
    public object? Cell(int row, string column) => Rows[row][View.Column(column)];
}

/// <summary>The workbook's five views computed from the app's own records in the store, over [From, At].</summary>
public sealed record DashboardReport(DateTimeOffset At, DateTimeOffset From, string Store, IReadOnlyList<DashboardTable> Views)
{
    public DashboardTable View(WorkbookView view) => Views.Single(v => v.View.Name == view.Name);

    /// <summary>Where a view's local source differs from the workspace's, said once under the tables.</summary>
    public static IReadOnlyList<string> Notes { get; } =
    [
        "backups-per-day: the backups' own metadata (duration, stored and dump bytes), as floyo.dr.backup.* recorded them when each finished.",
        "recovery-point-age: sampled at every 15-minute check tick (and now) from the newest verified dump taken by then; the WAL source is not derived here (floyo-dr check shows it).",
        "last-drills: the stored drill reports (reports/drills/), at the minute each finished; targets are RTO_TARGET / RPO_TARGET.",
        "open-incidents: the notification ledger (notifications/): a cause's newest alert or resolve in 90 days; an alert that could not even be recorded (store refusing) is in the log and FLOYO_WORK_DIR/alerts only.",
        "failures: failed run records (runs/, as event 5002), critical notifications (6300), channels that did not take one (6303) and check incidents (9201, once per incident, where the workspace counts every 15-minute run).",
    ];
}
