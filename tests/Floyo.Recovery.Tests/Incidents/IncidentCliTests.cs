using System.Text.Json;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Tests.Notifications;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Incidents;

/// <summary>The real floyo-dr binary: open, update, show and resolve an incident, each a separate process catching the plan up from the store.</summary>
public sealed class IncidentCliTests
{
    private const string StatusPath = "v1/pages/page-1/incidents";

    [Fact]
    public async Task Open_update_and_resolve_from_the_command_line_send_what_is_due_once_and_write_the_post_mortem()
    {
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = dir.Path,
            ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(EmailChannelTests.SlackPath),
            ["INCIDENT_STATUSPAGE_URL"] = hooks.Url(StatusPath),
        };
        foreach (var (key, value) in EmailChannelTests.Smtp(smtp.Port))
        {
            env[key] = value;
        }

        var bad = await FloyoDr.RunAsync(env, "incident", "open", "--title", "x", "--severity", "urgent");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("error: --severity must be critical, warning or info, not 'urgent'", bad.StdErr.Trim());

        var open = await FloyoDr.RunAsync(env, "incident", "open", "--title", "Primary database lost", "--stage", "assessing", "--json");
        Assert.True(open.ExitCode == 0, open.All);
        var id = JsonDocument.Parse(open.StdOut).RootElement.GetProperty("incident").GetProperty("id").GetString()!;
        Assert.Contains("\"nextAt\"", open.StdOut, StringComparison.Ordinal);
        Assert.Single(hooks.To(EmailChannelTests.SlackPath), p => p.Json.GetProperty("text").GetString()!.Contains("Incident opened: Primary database lost", StringComparison.Ordinal));
        Assert.Single(smtp.Mails);

        // A projection past 4 h: the team hears of the change, the status page and the customers hear of the outage.
        var update = await FloyoDr.RunAsync(env, "incident", "update", id, "--stage", "restoring", "--projected-rto", "6h");
        Assert.True(update.ExitCode == 0, update.All);
        Assert.Contains("sent           opened, change-1, status-page, customer-email", update.StdOut, StringComparison.Ordinal);
        Assert.Contains($"floyo-dr incident watch {id}", update.StdErr, StringComparison.Ordinal);
        Assert.Single(hooks.To(StatusPath));
        Assert.Single(smtp.Mails, m => m.Recipients.Contains("a@customer.example"));
        // The opening was not sent twice by the second process.
        Assert.Single(hooks.To(EmailChannelTests.SlackPath), p => p.Json.GetProperty("text").GetString()!.Contains("Incident opened", StringComparison.Ordinal));

        var resolve = await FloyoDr.RunAsync(env, "incident", "resolve", id, "--message", "restored from the 02:00 backup");
        Assert.True(resolve.ExitCode == 0, resolve.All);
        Assert.Contains($"post-mortem    {IncidentBook.PostMortemName(id)}", resolve.StdOut, StringComparison.Ordinal);
        Assert.Equal(["identified", "resolved"], hooks.To(StatusPath).Select(p => p.Json.GetProperty("incident").GetProperty("status").GetString()));
        var postMortem = await File.ReadAllTextAsync(Path.Combine(dir.Path, IncidentBook.PostMortemName(id)));
        Assert.Contains("| customer-email |", postMortem, StringComparison.Ordinal);
        Assert.Contains("restored from the 02:00 backup", postMortem, StringComparison.Ordinal);

        var show = await FloyoDr.RunAsync(env, "incident", "show", id, "--json");
        Assert.Equal("resolved", JsonDocument.Parse(show.StdOut).RootElement.GetProperty("status").GetString());
        var again = await FloyoDr.RunAsync(env, "incident", "update", id, "--message", "late");
        Assert.Equal(5, again.ExitCode);
        var missing = await FloyoDr.RunAsync(env, "incident", "show", "incident-nope");
        Assert.Equal(4, missing.ExitCode);
    }
}
