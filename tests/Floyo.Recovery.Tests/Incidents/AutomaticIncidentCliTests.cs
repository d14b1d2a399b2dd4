using Floyo.Recovery.Incidents;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Notifications;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Incidents;

/// <summary>
/// The real floyo-dr binary, whose embedded engine (the in-process Durable host) ends with the command: a failed
/// restore opens its incident there, the plan is caught up before the command exits, and the restore's own
/// error is still what it reports. A drill run by hand opens none unless INCIDENT_ON_DRILL_FAILURE says so.
/// </summary>
public sealed class AutomaticIncidentCliTests
{
    private static string[] Slack(WebhookRecorder hooks) => [.. hooks.To(EmailChannelTests.SlackPath).Select(p => p.Json.GetProperty("text").GetString()!)];

    [Fact]
    public async Task A_failed_restore_opens_one_incident_tells_slack_and_still_exits_with_its_own_error()
    {
        await using var database = await Sample.UsersAsync(200);
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        var env = CliEnvironment.For(database, dir.Path, ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(EmailChannelTests.SlackPath)));
        var name = await Restores.RestoreSafetyTests.BackupAsync(env);
        var path = Path.Combine(dir.Path, name);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
        var target = database.Name + "_copy";
        var expected = IncidentBook.CauseId(IncidentCause.RestoreFailed, target);

        var first = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", target);
        Assert.Equal((int)ErrorKind.Integrity, first.ExitCode);
        // Still one line: the restore's own error, naming the incident it opened.
        var error = Assert.Single(first.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: checksum mismatch", error, StringComparison.Ordinal);
        Assert.EndsWith($"(incident {expected} opened; sent opened; 'floyo-dr incident watch {expected}' keeps its communication plan running)", error, StringComparison.Ordinal);
        Assert.Single(Slack(hooks), t => t.Contains($"Incident opened: Restore into '{target}' failed", StringComparison.Ordinal));

        // Another run failing the same way: the same incident, updated and told, not a second one.
        var second = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", target);
        Assert.Equal((int)ErrorKind.Integrity, second.ExitCode);
        Assert.Contains($"(incident {expected} updated, open already; sent opened, change-1;", second.StdErr, StringComparison.Ordinal);
        var book = new IncidentBook(new FilesystemStore(dir.Path), TimeProvider.System);
        var incident = Assert.Single(await book.ListAsync(default));
        Assert.Equal(expected, incident.Id);
        Assert.Equal(2, incident.Occurrences!.Count);
        Assert.Equal(["opened", "change-1"], incident.Sent);
        Assert.Single(Slack(hooks), t => t.Contains("Incident opened", StringComparison.Ordinal));
        Assert.Single(Slack(hooks), t => t.Contains("failed again", StringComparison.Ordinal));
        Assert.DoesNotContain(database.Server.Password!, string.Join("\n", hooks.Posts.Select(p => p.Body)) + first.All + second.All, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public async Task A_drill_run_by_hand_opens_no_incident_unless_INCIDENT_ON_DRILL_FAILURE_is_true()
    {
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        // No backup at all: the restore-test drill fails at its first step, before staging is touched.
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = dir.Path,
            ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(EmailChannelTests.SlackPath),
        };
        var book = new IncidentBook(new FilesystemStore(dir.Path), TimeProvider.System);

        var byHand = await FloyoDr.RunAsync(env, "drill", "--scenario", "restore-test");
        Assert.True(byHand.ExitCode != 0, byHand.All);
        Assert.Contains("no good backup", byHand.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("(incident ", byHand.StdErr, StringComparison.Ordinal);
        Assert.Empty(await book.ListAsync(default));

        var bad = await FloyoDr.RunAsync(new Dictionary<string, string?>(env) { ["INCIDENT_ON_DRILL_FAILURE"] = "yes" }, "drill", "--scenario", "restore-test");
        Assert.Equal((int)ErrorKind.Configuration, bad.ExitCode);
        Assert.Contains("INCIDENT_ON_DRILL_FAILURE must be true or false", bad.StdErr, StringComparison.Ordinal);

        var production = await FloyoDr.RunAsync(new Dictionary<string, string?>(env) { ["INCIDENT_ON_DRILL_FAILURE"] = "true" }, "drill", "--scenario", "restore-test");
        Assert.True(production.ExitCode != 0, production.All);
        var expected = IncidentBook.CauseId(IncidentCause.DrillFailed, "restore-test");
        var line = production.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("error: drill restore-test-", line, StringComparison.Ordinal);
        Assert.Contains("no good backup", line, StringComparison.Ordinal);
        Assert.Contains($"(incident {expected} opened; sent opened;", line, StringComparison.Ordinal);
        Assert.Equal(expected, Assert.Single(await book.ListAsync(default)).Id);
        Assert.Single(Slack(hooks), t => t.Contains("Incident opened: DR drill restore-test failed", StringComparison.Ordinal));
    }
}
