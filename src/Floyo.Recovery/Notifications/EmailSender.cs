using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Floyo.Recovery.Configuration;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Floyo.Recovery.Notifications;

/// <summary>
/// The email channel: one message per notification over SMTP (MailKit), to the recipient list of the
/// notification's audience. Never throws for a relay that is down or refuses: the delivery says what happened,
/// without the password (MailKit never puts it in a message) and without any recipient list.
/// </summary>
public sealed partial class EmailSender(IOptions<EmailOptions> options, ILogger<EmailSender> logger)
{
    public const string Channel = NotificationRoutingOptions.Email;

    /// <summary>Null when the notification's audience has no recipients (not configured for it: nothing to deliver).</summary>
    public async Task<ChannelDelivery?> SendAsync(Notification notification, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var settings = options.Value;
        var recipients = EmailOptions.Addresses(notification.Audience switch
        {
            NotificationAudience.Stakeholders => settings.Stakeholders,
            NotificationAudience.Customers => settings.Customers,
            _ => settings.Team,
        });
        if (!settings.Configured || recipients.Count == 0)
        {
            return null;
        }
        var message = Compose(notification, settings, recipients);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        using var client = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(settings.TimeoutSeconds).TotalMilliseconds };
        try
        {
            await client.ConnectAsync(settings.Host!.Trim(), settings.Port, settings.SecurityMode switch
            {
                SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            }, timeout.Token);
            if (!string.IsNullOrEmpty(settings.User))
            {
                await client.AuthenticateAsync(settings.User, settings.Password ?? "", timeout.Token);
            }
            await client.SendAsync(message, timeout.Token);
            await client.DisconnectAsync(quit: true, timeout.Token);
            LogSent(logger, notification.Id, notification.Audience.ToString(), recipients.Count);
            return new ChannelDelivery(Channel, true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ChannelDelivery(Channel, false, $"SMTP relay {settings.Host}:{settings.Port} gave no answer within {settings.TimeoutSeconds:F0} s");
        }
        catch (Exception e) when (e is SocketException or IOException or MailKit.Security.AuthenticationException or SmtpCommandException
            or SmtpProtocolException or SslHandshakeException or ServiceNotConnectedException or ServiceNotAuthenticatedException or NotSupportedException)
        {
            return new ChannelDelivery(Channel, false, Describe(e, settings));
        }
    }

    private static MimeMessage Compose(Notification n, EmailOptions settings, IReadOnlyList<MailboxAddress> recipients)
    {
        var message = new MimeMessage
        {
            // Customers read a plain subject; the team's carries the severity for their mail rules.
            Subject = n.Audience == NotificationAudience.Customers ? n.Title : $"{(n.Resolves ? "[resolved]" : $"[{n.Severity.ToString().ToLowerInvariant()}]")} {n.Title}",
            Date = n.At,
            // One id per notification: a relay or mail client can drop a duplicate.
            MessageId = $"{(n.Audience == NotificationAudience.Customers ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(n.Id)))[..24] : Sanitize(n.Id))}@floyo-dr",
            Body = new TextPart("plain") { Text = Body(n) },
        };
        var from = MailboxAddress.Parse(settings.From!.Trim());
        message.From.Add(from);
        if (n.Audience == NotificationAudience.Customers)
        {
            // Customers never see one another's address.
            message.To.Add(from);
            message.Bcc.AddRange(recipients);
        }
        else
        {
            message.To.AddRange(recipients);
        }
        if (n.DedupKey is { } key && n.Audience != NotificationAudience.Customers)
        {
            message.Headers.Add("X-Floyo-Incident", key);
        }
        return message;
    }

    private static string Body(Notification n)
    {
        var text = new StringBuilder();
        text.AppendLine(n.Resolves ? $"Resolved: {n.Title}" : n.Title);
        text.AppendLine();
        text.AppendLine(n.Text);
        if (n.Audience != NotificationAudience.Customers)
        {
            // Internal names stay internal: customers get the text only.
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"-- floyo-dr, {n.At.UtcDateTime:yyyy-MM-dd HH:mm} UTC, notification {n.Id}");
        }
        return text.ToString();
    }

    private static string Describe(Exception e, EmailOptions settings) => e switch
    {
        SocketException s => $"SMTP relay {settings.Host}:{settings.Port} unreachable ({s.SocketErrorCode})",
        MailKit.Security.AuthenticationException => $"SMTP relay {settings.Host} refused the login of {settings.User}",
        SmtpCommandException c => $"SMTP relay {settings.Host} refused {c.ErrorCode}: {(int)c.StatusCode} {c.Message}",
        _ => $"SMTP relay {settings.Host}:{settings.Port}: {e.Message}",
    };

    private static string Sanitize(string id) => new([.. id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_')]);

    [LoggerMessage(EventId = 9300, Level = LogLevel.Debug, Message = "Notification {Id} emailed to {Count} {Audience} recipients")]
    private static partial void LogSent(ILogger logger, string id, string audience, int count);
}
