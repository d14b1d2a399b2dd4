using System.Net;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Tests.Notifications;

/// <summary>MailKit's real SMTP client against an SMTP relay on loopback, beside the webhook channels on a real HTTP listener.</summary>
[Trait("Tier", "Fast")]
public sealed class EmailChannelTests
{
    internal const string SlackPath = "services/T0001/B0002/slack-webhook-token-0123456789";
    internal const string PagerPath = "v2/enqueue";
    internal const string SmtpPassword = "smtp-Pa55word-0123456789";

    internal static ServiceProvider Engine(TempDirectory dir, CapturedLogs logs, params (string Key, string? Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path, ["NOTIFY_TIMEOUT_SECONDS"] = "2", ["SMTP_TIMEOUT_SECONDS"] = "5" };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddFloyoRecovery();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    internal static (string, string?)[] Smtp(int port, params (string, string?)[] more) =>
    [
        ("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("SMTP_SECURITY", "none"),
        ("SMTP_USER", "dr-relay"), ("SMTP_PASSWORD", SmtpPassword), ("SMTP_FROM", "Floyo DR <dr@floyo.example>"),
        ("NOTIFY_EMAIL_TEAM", "oncall@floyo.example, dba@floyo.example"), ("NOTIFY_EMAIL_STAKEHOLDERS", "cto@floyo.example"),
        ("NOTIFY_EMAIL_CUSTOMERS", "a@customer.example; b@customer.example"), .. more,
    ];

    private static Notification Alert(string id, NotificationSeverity severity, NotificationAudience audience = NotificationAudience.Team, bool resolves = false) =>
        new(id, severity, $"title of {id}", $"text of {id}", DateTimeOffset.UtcNow, "incident-1", resolves, audience);

    [Fact]
    public async Task A_critical_alert_is_paged_posted_and_emailed_to_the_team_with_the_login_only_in_AUTH()
    {
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        using var dir = new TempDirectory();
        var logs = new CapturedLogs();
        await using var engine = Engine(dir, logs, Smtp(smtp.Port, ("NOTIFY_PAGERDUTY_URL", hooks.Url(PagerPath)), ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath))));

        var receipt = await engine.GetRequiredService<INotifier>().NotifyAsync(Alert("e-critical", NotificationSeverity.Critical), default);

        Assert.Equal(["pagerduty", "slack", "email"], receipt.Deliveries.Select(d => d.Channel));
        Assert.All(receipt.Deliveries, d => Assert.True(d.Delivered, d.Error));
        var mail = Assert.Single(smtp.Mails);
        Assert.Equal("dr@floyo.example", mail.From);
        Assert.Equal(["oncall@floyo.example", "dba@floyo.example"], mail.Recipients);
        Assert.Equal($"dr-relay:{SmtpPassword}", mail.Login);
        Assert.Equal("[critical] title of e-critical", mail.Header("Subject"));
        Assert.Equal("incident-1", mail.Header("X-Floyo-Incident"));
        Assert.Contains("text of e-critical", mail.Data, StringComparison.Ordinal);

        // The password crossed the wire only inside AUTH, and is in no log line and no record.
        Assert.DoesNotContain(SmtpPassword, logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpPassword, mail.Data, StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpPassword, string.Concat(Directory.EnumerateFiles(Path.Combine(dir.Path, "notifications")).Select(File.ReadAllText)), StringComparison.Ordinal);

        // A warning stays in chat by default: no new mail.
        var warning = await engine.GetRequiredService<INotifier>().NotifyAsync(Alert("e-warning", NotificationSeverity.Warning), default);
        Assert.Equal(["slack"], warning.Deliveries.Select(d => d.Channel));
        Assert.Single(smtp.Mails);
    }

    [Fact]
    public async Task Stakeholders_get_email_whatever_the_route_and_customers_only_see_themselves_in_Bcc()
    {
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        using var dir = new TempDirectory();
        await using var engine = Engine(dir, new CapturedLogs(), Smtp(smtp.Port, ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath))));
        var notifier = engine.GetRequiredService<INotifier>();

        var update = await notifier.NotifyAsync(Alert("e-stakeholders", NotificationSeverity.Info, NotificationAudience.Stakeholders), default);
        var customers = await notifier.NotifyAsync(Alert("e-customers", NotificationSeverity.Info, NotificationAudience.Customers), default);

        Assert.Equal(["slack", "email"], update.Deliveries.Select(d => d.Channel));
        Assert.True(customers.Delivered);
        var mails = smtp.Mails.ToList();
        Assert.Equal(["cto@floyo.example"], mails[0].Recipients);
        // The envelope reaches every customer; the headers show only the sender.
        Assert.Equal(["dr@floyo.example", "a@customer.example", "b@customer.example"], mails[1].Recipients);
        Assert.Equal("Floyo DR <dr@floyo.example>", mails[1].Header("To"));
        Assert.DoesNotContain("customer.example", mails[1].Header("To"), StringComparison.Ordinal);
        Assert.Equal("", mails[1].Header("Bcc"));
    }

    [Fact]
    public async Task A_dead_or_refusing_relay_never_throws_and_is_reported_through_the_channels_that_work()
    {
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder { RejectLogin = true };
        using var dir = new TempDirectory();
        var logs = new CapturedLogs();
        await using (var refused = Engine(dir, logs, Smtp(smtp.Port, ("NOTIFY_PAGERDUTY_URL", hooks.Url(PagerPath)), ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath)))))
        {
            var receipt = await refused.GetRequiredService<INotifier>().NotifyAsync(Alert("e-refused", NotificationSeverity.Critical), default);
            var email = receipt.Deliveries.Single(d => d.Channel == "email");
            Assert.False(email.Delivered);
            Assert.Equal("SMTP relay 127.0.0.1 refused the login of dr-relay", email.Error);
            Assert.Empty(smtp.Mails);
        }

        // Nobody listens on the relay's port: the incident still pages and posts, and the dead channel is told to chat under the same key.
        using var dir2 = new TempDirectory();
        await using var engine = Engine(dir2, logs, Smtp(FreePort(), ("NOTIFY_PAGERDUTY_URL", hooks.Url(PagerPath)), ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath))));
        var alert = await engine.GetRequiredService<IncidentAlerts>().RaiseAsync("backup:floyo", NotificationSeverity.Critical, "Backup of floyo failed", "pg_dump exited 1", default);

        Assert.Equal(IncidentAlerts.Opened, alert.Action);
        var dead = alert.Receipt!.Deliveries.Single(d => d.Channel == "email");
        Assert.False(dead.Delivered);
        Assert.StartsWith("SMTP relay 127.0.0.1:", dead.Error, StringComparison.Ordinal);
        Assert.Contains("unreachable", dead.Error, StringComparison.Ordinal);
        var chat = hooks.To(SlackPath).Select(p => p.Json.GetProperty("text").GetString()!).ToList();
        Assert.Contains(chat, t => t.Contains("Alert channel down: email", StringComparison.Ordinal) && t.Contains("Backup of floyo failed", StringComparison.Ordinal));
        Assert.DoesNotContain(SmtpPassword, logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Routes_come_from_configuration_and_a_resolve_goes_where_its_alert_went()
    {
        await using var hooks = new WebhookRecorder();
        await using var smtp = new SmtpRecorder();
        using var dir = new TempDirectory();
        await using var engine = Engine(dir, new CapturedLogs(), Smtp(smtp.Port, ("NOTIFY_PAGERDUTY_URL", hooks.Url(PagerPath)), ("NOTIFY_SLACK_WEBHOOK_URL", hooks.Url(SlackPath)),
            ("NOTIFY_ROUTE_CRITICAL", "pagerduty, email"), ("NOTIFY_ROUTE_WARNING", "Slack,email"), ("NOTIFY_ROUTE_INFO", "none")));
        var notifier = engine.GetRequiredService<INotifier>();

        Assert.Equal(["pagerduty", "email"], (await notifier.NotifyAsync(Alert("r-critical", NotificationSeverity.Critical), default)).Deliveries.Select(d => d.Channel));
        Assert.Equal(["slack", "email"], (await notifier.NotifyAsync(Alert("r-warning", NotificationSeverity.Warning), default)).Deliveries.Select(d => d.Channel));
        Assert.Empty((await notifier.NotifyAsync(Alert("r-info", NotificationSeverity.Info), default)).Deliveries);
        var resolved = await notifier.NotifyAsync(Alert("r-critical-resolved", NotificationSeverity.Critical, resolves: true), default);
        Assert.Equal(["pagerduty", "email"], resolved.Deliveries.Select(d => d.Channel));

        Assert.Equal(["trigger", "resolve"], hooks.To(PagerPath).Select(p => p.Json.GetProperty("event_action").GetString()));
        Assert.Single(hooks.To(SlackPath));
        Assert.Equal(["[critical] title of r-critical", "[warning] title of r-warning", "[resolved] title of r-critical-resolved"], smtp.Mails.Select(m => m.Header("Subject")));
    }

    [Theory]
    [InlineData("NOTIFY_ROUTE_WARNING", "sms", "NOTIFY_ROUTE_WARNING names 'sms': the channels are pagerduty, slack, email (or none)")]
    [InlineData("NOTIFY_ROUTE_CRITICAL", "pagerduty", "NOTIFY_ROUTE_CRITICAL routes to pagerduty but NOTIFY_PAGERDUTY_URL is not set")]
    [InlineData("NOTIFY_ROUTE_INFO", "email", "NOTIFY_ROUTE_INFO routes to email but SMTP_HOST is not set")]
    [InlineData("NOTIFY_ROUTE_INFO", "none,slack", "NOTIFY_ROUTE_INFO: 'none' cannot be combined with a channel")]
    public void A_route_to_an_unknown_or_unconfigured_channel_fails_at_start(string key, string value, string expected)
    {
        using var dir = new TempDirectory();
        using var engine = Engine(dir, new CapturedLogs(), (key, value));
        var failure = Assert.Throws<OptionsValidationException>(() => engine.GetRequiredService<IOptions<NotificationRoutingOptions>>().Value);
        Assert.Equal(expected, Assert.Single(failure.Failures));
    }

    [Theory]
    [InlineData("SMTP_FROM", "", "SMTP_FROM is required when SMTP_HOST is set")]
    [InlineData("SMTP_SECURITY", "ssl3", "SMTP_SECURITY must be starttls, tls or none")]
    [InlineData("SMTP_HOST", "smtp.azurecomm.net", "SMTP_SECURITY=none sends SMTP_USER's password in clear: allowed only for a relay on loopback; use starttls or tls")]
    [InlineData("NOTIFY_EMAIL_TEAM", "oncall-at-floyo", "NOTIFY_EMAIL_TEAM holds 'oncall-at-floyo', which is not an email address")]
    [InlineData("SMTP_PASSWORD", "", "SMTP_USER and SMTP_PASSWORD go together: set both or neither")]
    public void A_bad_smtp_setting_fails_at_start_without_echoing_the_password(string key, string value, string expected)
    {
        using var dir = new TempDirectory();
        using var engine = Engine(dir, new CapturedLogs(), Smtp(25, (key, value)));
        var failure = Assert.Throws<OptionsValidationException>(() => engine.GetRequiredService<IOptions<EmailOptions>>().Value);
        Assert.Equal(expected, Assert.Single(failure.Failures));
        Assert.DoesNotContain(SmtpPassword, failure.Message, StringComparison.Ordinal);
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
