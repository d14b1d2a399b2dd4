using System.Text.Json;
using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Secondary;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;

namespace Floyo.Recovery.Tests.Backups;

/// <summary>
/// Issue 10, items 5 and 12: one damaged or forged record (verification, acceptance, metadata, copy record,
/// drill report) is reported and never trusted, and everything else in the catalogue keeps working.
/// No PostgreSQL needed: the backups are fabricated straight into the store.
/// </summary>
public sealed class CatalogDamageTests
{
    private static readonly DateTimeOffset Day = new(2030, 1, 10, 2, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string?> Env(string dir, params (string Key, string? Value)[] extra)
    {
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = dir };
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }
        return env;
    }

    private static JsonElement[] Listed(CliResult run)
    {
        Assert.True(run.ExitCode == 0, run.All);
        return [.. JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray()];
    }

    [Fact]
    public async Task A_damaged_verification_record_is_a_finding_and_list_cleanup_and_the_older_record_still_work()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var backup = await FabricatedBackups.WriteAsync(store, "shop", Day);
        await FabricatedBackups.VerifyAsync(store, backup.Name, Day.AddHours(1), passed: true);
        var damaged = $"{VerificationRecord.Prefix}{backup.Name}/99999999T000000000Z.json";
        FabricatedBackups.Plant(dir.Path, damaged, "{");
        // Workflow run records are not read by the catalogue at all: damaged ones change nothing here.
        FabricatedBackups.Plant(dir.Path, "runs/backup/floyo-backup-20300110T020000Z.json", "{");
        FabricatedBackups.Plant(dir.Path, "runs/write-freezes/floyo-restore-1.json", "{");

        var text = await FloyoDr.RunAsync(Env(dir.Path), "list");
        Assert.True(text.ExitCode == 0, text.All);
        Assert.Contains(backup.Name, text.StdOut, StringComparison.Ordinal);
        Assert.Contains(damaged, text.StdOut, StringComparison.Ordinal);
        Assert.Contains(damaged, text.StdErr, StringComparison.Ordinal);

        var entry = Assert.Single(Listed(await FloyoDr.RunAsync(Env(dir.Path), "list", "--json")));
        Assert.True(entry.GetProperty("verified").GetBoolean(), "the older, valid record still counts");
        Assert.Contains(damaged, entry.GetProperty("findings").EnumerateArray().Single().GetString(), StringComparison.Ordinal);

        var cleanup = await FloyoDr.RunAsync(Env(dir.Path), "cleanup", "--dry-run");
        Assert.True(cleanup.ExitCode == 0, cleanup.All);
    }

    [Fact]
    public async Task A_forged_verification_record_is_never_taken_as_the_newest()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var backup = await FabricatedBackups.WriteAsync(store, "shop", Day);
        await FabricatedBackups.VerifyAsync(store, backup.Name, Day.AddHours(1), passed: false);
        var forged = JsonSerializer.Serialize(new VerificationRecord("other_full_20300101_020000.dump", Day.AddHours(2), true, true, "s", 1, []), Json.Options);
        var wrongBackup = $"{VerificationRecord.Prefix}{backup.Name}/99999999T000000000Z.json";
        FabricatedBackups.Plant(dir.Path, wrongBackup, forged);
        var misdated = $"{VerificationRecord.Prefix}{backup.Name}/99999998T000000000Z.json";
        FabricatedBackups.Plant(dir.Path, misdated, JsonSerializer.Serialize(new VerificationRecord(backup.Name, Day.AddHours(2), true, true, "s", 1, []), Json.Options));

        var entry = Assert.Single(Listed(await FloyoDr.RunAsync(Env(dir.Path), "list", "--json")));
        Assert.False(entry.GetProperty("verified").GetBoolean(), "the only genuine record failed");
        var findings = entry.GetProperty("findings").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.Contains(findings, f => f.Contains(wrongBackup, StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Contains(misdated, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_damaged_or_forged_acceptance_leaves_the_flagged_backup_suspect()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var flagged = await FabricatedBackups.WriteAsync(store, "shop", Day, anomalies: ["public.users: 100 rows became 0"]);
        var other = await FabricatedBackups.WriteAsync(store, "shop", Day.AddDays(-1), anomalies: ["public.users: 100 rows became 0"]);
        FabricatedBackups.Plant(dir.Path, Acceptance.NameFor(flagged.Name), "{");
        FabricatedBackups.Plant(dir.Path, Acceptance.NameFor(other.Name),
            JsonSerializer.Serialize(new Acceptance(flagged.Name, "mallory", Day, "forged"), Json.Options));

        var listed = Listed(await FloyoDr.RunAsync(Env(dir.Path), "list", "--json"));
        Assert.Equal(2, listed.Length);
        Assert.All(listed, e => Assert.True(e.GetProperty("suspect").GetBoolean(), e.ToString()));
        Assert.All(listed, e => Assert.Single(e.GetProperty("findings").EnumerateArray()));
    }

    [Fact]
    public async Task Damaged_or_forged_metadata_is_reported_and_the_backup_is_never_trusted()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var good = await FabricatedBackups.WriteAsync(store, "shop", Day);
        var broken = FabricatedBackups.Metadata("shop", Day.AddHours(1), [1, 2, 3]);
        await store.WriteAllAsync(broken.Name, new byte[] { 1, 2, 3 }, ObjectRetention.None, default);
        FabricatedBackups.Plant(dir.Path, BackupName.MetadataOf(broken.Name), "{");
        // A metadata file that names another backup: the classic copy-and-rename forgery.
        var forged = FabricatedBackups.Metadata("shop", Day.AddHours(2), [4, 5, 6]);
        await store.WriteAllAsync(forged.Name, new byte[] { 4, 5, 6 }, ObjectRetention.None, default);
        FabricatedBackups.Plant(dir.Path, BackupName.MetadataOf(forged.Name), System.Text.Encoding.UTF8.GetString(good.ToJson()));

        var listed = Listed(await FloyoDr.RunAsync(Env(dir.Path), "list", "--json"));
        Assert.Single(listed, e => e.GetProperty("name").GetString() == good.Name);
        Assert.True(listed.Single(e => e.GetProperty("name").GetString() == good.Name).GetProperty("valid").GetBoolean());
        foreach (var name in new[] { broken.Name, forged.Name })
        {
            var row = Assert.Single(listed, e => e.GetProperty("name").GetString() == name);
            Assert.False(row.GetProperty("valid").GetBoolean(), row.ToString());
            Assert.Contains(BackupName.MetadataOf(name), Assert.Single(row.GetProperty("findings").EnumerateArray()).GetString(), StringComparison.Ordinal);
        }

        var text = await FloyoDr.RunAsync(Env(dir.Path), "list");
        Assert.True(text.ExitCode == 0, text.All);
        Assert.Contains("INVALID", text.StdOut, StringComparison.Ordinal);

        var restore = await FloyoDr.RunAsync(Env(dir.Path, ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")), "restore", "--file", forged.Name, "--target-database", "x");
        Assert.True(restore.ExitCode != 0, restore.All);
        var lines = restore.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines.SkipLast(1), l => Assert.Contains("warn:", l, StringComparison.Ordinal));
        Assert.StartsWith($"error: '{forged.Name}' is not trusted: {BackupName.MetadataOf(forged.Name)} names the backup '{good.Name}'", lines[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BackupSource.Secondary)]
    [InlineData(BackupSource.Tertiary)]
    public async Task A_damaged_copy_record_leaves_the_copy_unproven_and_list_working(BackupSource which)
    {
        using var dir = new TempDirectory();
        using var second = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var backup = await FabricatedBackups.WriteAsync(store, "shop", Day);
        var copy = new FilesystemStore(second.Path);
        await copy.WriteAllAsync(backup.Name, await File.ReadAllBytesAsync(Path.Combine(dir.Path, backup.Name)), ObjectRetention.None, default);
        await copy.WriteAllAsync(BackupName.MetadataOf(backup.Name), backup.ToJson(), ObjectRetention.None, default);
        FabricatedBackups.Plant(dir.Path, CopyRecord.NameFor(backup.Name, which, Day.AddHours(1)), "{");

        var prefix = which == BackupSource.Secondary ? "BACKUP_SECONDARY" : "BACKUP_TERTIARY";
        var entry = Assert.Single(Listed(await FloyoDr.RunAsync(Env(dir.Path, ($"{prefix}_STORE", "filesystem"), ($"{prefix}_DIR", second.Path)), "list", "--json")));
        var copies = entry.GetProperty("copies");
        Assert.Equal("present", copies.GetProperty(which == BackupSource.Secondary ? "secondary" : "tertiary").GetString());
        Assert.Equal("not configured", copies.GetProperty(which == BackupSource.Secondary ? "tertiary" : "secondary").GetString());
    }

    [Fact]
    public async Task A_damaged_drill_report_leaves_the_history_of_the_others()
    {
        using var dir = new TempDirectory();
        var store = new FilesystemStore(dir.Path);
        var report = new DrillReport("restore-test-20300110T020000Z", "restore-test", DrillStatus.Passed, Day, Day.AddMinutes(5), null, null,
            TimeSpan.FromMinutes(5), null, new RecoveryTargets(TimeSpan.FromHours(4), TimeSpan.FromHours(1), TimeSpan.FromHours(24), TimeSpan.FromHours(24)), [], []);
        await store.WriteAllAsync(report.JsonName, JsonSerializer.SerializeToUtf8Bytes(report, Json.Options), ObjectRetention.None, default);
        FabricatedBackups.Plant(dir.Path, $"{DrillReport.Prefix}restore-test-20300111T020000Z.json", "{");
        // A copy of a genuine report under another id is not that drill.
        FabricatedBackups.Plant(dir.Path, $"{DrillReport.Prefix}restore-test-20300112T020000Z.json", JsonSerializer.Serialize(report, Json.Options));

        var run = await FloyoDr.RunAsync(Env(dir.Path), "drill", "history", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        var history = JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray().ToList();
        Assert.Equal(report.Id, Assert.Single(history).GetProperty("id").GetString());
        Assert.Contains("restore-test-20300111T020000Z.json", run.StdErr, StringComparison.Ordinal);
    }
}
