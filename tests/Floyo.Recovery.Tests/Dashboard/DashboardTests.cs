using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Dashboard;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Dashboard;

/// <summary>
/// `floyo-dr dashboard` over a real history: two verified full backups of a real PostgreSQL database into the
/// filesystem store, a nightly backup failing on a wrong password (its incident open, its run failed), two stored
/// drill reports, then a good backup that resolves the incident. Every number is checked against its source.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestDatabase _db = null!;
    private DateTimeOffset _lastAt;

    private string BackupDir => Path.Combine(_dir.Path, "backups");

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        // Repetitive rows compress well: the ratio must come out above 1.
        await _db.ExecuteAsync("CREATE TABLE t (id int, note text); INSERT INTO t SELECT g, repeat('floyo ', 20) FROM generate_series(1, 20000) g");
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _dir.Dispose();
    }

    private Dictionary<string, string?> Settings(string? databaseUrl = null) => new()
    {
        ["DATABASE_URL"] = databaseUrl ?? _db.Url,
        ["BACKUP_DIR"] = BackupDir,
        ["FLOYO_WORK_DIR"] = Path.Combine(_dir.Path, "work"),
    };

    [Fact]
    public async Task The_five_views_show_the_backups_drills_incident_and_failures_that_happened()
    {
        for (var i = 0; i < 2; i++)
        {
            var backup = await FloyoDr.RunAsync(Settings(), "backup", "--full", "--verify");
            Assert.True(backup.ExitCode == 0, backup.All);
        }
        var wrongPassword = TestServers.Url(new NpgsqlConnectionStringBuilder(TestServers.Primary.ConnectionString) { Password = "not-the-password" }, _db.Name);
        var failed = await FloyoDr.RunAsync(Settings(wrongPassword), "backup", "--full");
        Assert.NotEqual(0, failed.ExitCode);

        var now = DateTimeOffset.UtcNow;
        await using (var engine = Engine.Create(Settings()))
        {
            var reports = engine.GetRequiredService<DrillReports>();
            await reports.SaveAsync(Drill("drill-a", DrillStatus.Passed, now.AddMinutes(-10), TimeSpan.FromMinutes(95), TimeSpan.FromMinutes(30)), default);
            await reports.SaveAsync(Drill("drill-b", DrillStatus.Failed, now.AddMinutes(-5), TimeSpan.FromMinutes(300), TimeSpan.FromMinutes(90.04)), default);
        }

        var views = await DashboardAsync();

        // Backups per day: the two committed backups (the failed run committed none), numbers from their metadata.
        var metadata = Directory.EnumerateFiles(BackupDir, "*.meta.json").Select(f => BackupMetadata.FromJson(File.ReadAllBytes(f))).OrderBy(m => m.Timestamp).ToList();
        Assert.Equal(2, metadata.Count);
        var backups = Assert.Single(views["backups-per-day"]);
        Assert.Equal(Day(metadata[1].Timestamp.AddSeconds(metadata[1].DurationSeconds)), backups.GetProperty("day").GetDateTimeOffset());
        Assert.Equal(_db.Name, backups.GetProperty("database").GetString());
        Assert.Equal("full", backups.GetProperty("kind").GetString());
        Assert.Equal(2, backups.GetProperty("backups").GetInt32());
        Assert.Equal(Math.Round(metadata.Average(m => m.DurationSeconds), 1, MidpointRounding.AwayFromZero), backups.GetProperty("avgDurationSeconds").GetDouble());
        Assert.Equal(Math.Round(metadata.Max(m => m.DurationSeconds), 1, MidpointRounding.AwayFromZero), backups.GetProperty("maxDurationSeconds").GetDouble());
        Assert.Equal(Math.Round(metadata.Sum(m => m.SizeBytes) / 1048576.0, 1, MidpointRounding.AwayFromZero), backups.GetProperty("storedMiB").GetDouble());
        var ratio = backups.GetProperty("compressionRatio").GetDouble();
        Assert.Equal(Math.Round(metadata.Average(m => (double)m.DumpBytes / m.SizeBytes), 2, MidpointRounding.AwayFromZero), ratio);
        Assert.True(ratio > 2, $"compression ratio {ratio}");

        // Recovery point age: 15-minute bins from the first verified backup on; now it is the newest backup's age.
        var ages = views["recovery-point-age"];
        Assert.NotEmpty(ages);
        Assert.All(ages, a => Assert.Equal("dump", a.GetProperty("source").GetString()));
        // The first sample is the first 15-minute check tick after the first verified backup, or the check run now when none has passed yet.
        var firstAvailable = metadata[0].Timestamp.AddSeconds(metadata[0].DurationSeconds);
        var firstTick = Bin15(firstAvailable) == firstAvailable ? firstAvailable : Bin15(firstAvailable).AddMinutes(15);
        Assert.Equal(firstTick <= _lastAt ? firstTick : Bin15(firstAvailable), ages[0].GetProperty("TimeGenerated").GetDateTimeOffset());
        var newestAge = ages[^1].GetProperty("ageHours").GetDouble();
        Assert.InRange(newestAge, 0, Math.Round((DateTimeOffset.UtcNow - metadata[0].Timestamp).TotalHours, 2) + 0.01);

        // Last drills, newest first, against the 4 h / 1 h targets.
        var drills = views["last-drills"];
        Assert.Equal(2, drills.Count);
        Assert.Equal([DrillScenario.DatabaseCorruption, DrillScenario.DatabaseCorruption], drills.Select(d => d.GetProperty("scenario").GetString()));
        Assert.Equal([DrillStatus.Failed, DrillStatus.Passed], drills.Select(d => d.GetProperty("status").GetString()));
        Assert.Equal(Minute(now.AddMinutes(-5)), drills[0].GetProperty("at").GetDateTimeOffset());
        Assert.Equal([300.0, 95.0], drills.Select(d => d.GetProperty("rtoMinutes").GetDouble()));
        Assert.Equal([90.0, 30.0], drills.Select(d => d.GetProperty("rpoMinutes").GetDouble()));
        Assert.All(drills, d => Assert.Equal(240.0, d.GetProperty("rtoTargetMinutes").GetDouble()));
        Assert.All(drills, d => Assert.Equal(60.0, d.GetProperty("rpoTargetMinutes").GetDouble()));
        Assert.Equal([false, true], drills.Select(d => d.GetProperty("rtoMet").GetBoolean()));
        Assert.Equal([false, true], drills.Select(d => d.GetProperty("rpoMet").GetBoolean()));

        // Open incidents: the failed backup's, with the "opened" event's own text.
        var incident = Assert.Single(views["open-incidents"]);
        Assert.Equal($"backup:{_db.Name}", incident.GetProperty("key").GetString());
        Assert.Equal($"Incident backup:{_db.Name} opened (Critical): Backup of {_db.Name} failed; sent to no channel configured (log and store only)", incident.GetProperty("Message").GetString());

        // Failures: the failed run (5002) and its critical alert (6300), once each.
        var failures = views["failures"];
        Assert.Equal(["5002", "6300"], failures.Select(f => f.GetProperty("eventId").GetString()).Order(StringComparer.Ordinal));
        var run = failures.Single(f => f.GetProperty("eventId").GetString() == "5002");
        Assert.Equal("Floyo.Recovery.Workflows.Orchestrations.BackupOrchestrator", run.GetProperty("what").GetString());
        Assert.Equal(1, run.GetProperty("failures").GetInt32());
        Assert.Contains("authentication failed for user", run.GetProperty("example").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", JsonSerializer.Serialize(views), StringComparison.Ordinal);
        var alert = failures.Single(f => f.GetProperty("eventId").GetString() == "6300");
        Assert.Equal("Floyo.Recovery.Notifications.WebhookNotifier", alert.GetProperty("what").GetString());
        Assert.Equal(1, alert.GetProperty("failures").GetInt32());

        // The next good backup resolves the incident: its newest event is now "resolved"; the failures stay history.
        var good = await FloyoDr.RunAsync(Settings(), "backup", "--full", "--verify");
        Assert.True(good.ExitCode == 0, good.All);
        var after = await DashboardAsync();
        Assert.Empty(after["open-incidents"]);
        Assert.Equal(3, after["backups-per-day"].Sum(r => r.GetProperty("backups").GetInt32()));
        Assert.Equal(2, after["failures"].Count);

        // The text rendering: every view titled, with the workbook's column names as headers.
        var text = await FloyoDr.RunAsync(Settings(), "dashboard");
        Assert.True(text.ExitCode == 0, text.All);
        foreach (var view in WorkbookViews.All)
        {
            Assert.Contains($"== {view.Title} [{view.Name}]", text.StdOut, StringComparison.Ordinal);
        }
        Assert.Contains("day".PadRight("yyyy-mm-dd".Length) + "  database", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("at".PadRight("yyyy-mm-dd hh:mm".Length) + "  scenario", text.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("401")]
    public async Task A_window_outside_1_to_400_days_is_a_usage_error(string days)
    {
        var run = await FloyoDr.RunAsync(Settings(), "dashboard", "--days", days);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--days must be between 1 and 400, not {days}", run.StdErr, StringComparison.Ordinal);
    }

    private async Task<Dictionary<string, List<JsonElement>>> DashboardAsync()
    {
        var run = await FloyoDr.RunAsync(Settings(), "dashboard", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        var root = JsonDocument.Parse(run.StdOut).RootElement;
        _lastAt = root.GetProperty("at").GetDateTimeOffset();
        var views = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        foreach (var view in root.GetProperty("views").EnumerateArray())
        {
            var name = view.GetProperty("name").GetString()!;
            var columns = view.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
            Assert.Equal(WorkbookViews.All.Single(v => v.Name == name).Columns, columns);
            var rows = view.GetProperty("rows").EnumerateArray().Select(r => r.Clone()).ToList();
            Assert.All(rows, r => Assert.Equal(columns, r.EnumerateObject().Select(p => p.Name)));
            views[name] = rows;
        }
        Assert.Equal(WorkbookViews.All.Select(v => v.Name), views.Keys);
        return views;
    }

    private static DrillReport Drill(string id, string status, DateTimeOffset finished, TimeSpan rto, TimeSpan rpo) =>
        new(id, DrillScenario.DatabaseCorruption, status, finished - rto, finished, "some-backup", finished - rto - rpo, rto, rpo,
            new RecoveryTargets(TimeSpan.FromHours(4), TimeSpan.FromHours(1), TimeSpan.FromHours(24), TimeSpan.FromHours(24)), [], status == DrillStatus.Failed ? ["RTO target missed"] : []);

    private static DateTimeOffset Day(DateTimeOffset at) => new(at.UtcDateTime.Date, TimeSpan.Zero);

    private static DateTimeOffset Minute(DateTimeOffset at) => new(at.UtcDateTime.Ticks - at.UtcDateTime.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

    private static DateTimeOffset Bin15(DateTimeOffset at) => new(at.UtcDateTime.Ticks - at.UtcDateTime.Ticks % TimeSpan.FromMinutes(15).Ticks, TimeSpan.Zero);
}
