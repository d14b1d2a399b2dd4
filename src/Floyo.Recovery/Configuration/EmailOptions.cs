using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Floyo.Recovery.Configuration;

/// <summary>How the SMTP connection is secured.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS, which must succeed (port 587: Azure Communication Services, Office 365).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,

    /// <summary>No encryption: only for a relay on loopback, and never with credentials elsewhere.</summary>
    None,
}

/// <summary>
/// The email channel (any SMTP relay: Azure Communication Services, Office 365, a local relay). Recipients are
/// grouped by audience: the team (alerts), stakeholders (incident updates) and customers (outages past the RTO
/// threshold, sent as Bcc so no customer sees another's address). SMTP_HOST empty: no email.
/// </summary>
public sealed class EmailOptions
{
    [ConfigurationKeyName("SMTP_HOST")]
    public string? Host { get; set; }

    [ConfigurationKeyName("SMTP_PORT")]
    public int Port { get; set; } = 587;

    /// <summary>starttls (default), tls or none.</summary>
    [ConfigurationKeyName("SMTP_SECURITY")]
    public string Security { get; set; } = "starttls";

    [ConfigurationKeyName("SMTP_USER")]
    public string? User { get; set; }

    /// <summary>A secret: in Azure a Key Vault reference. Never logged, recorded or put in an error.</summary>
    [ConfigurationKeyName("SMTP_PASSWORD")]
    public string? Password { get; set; }

    /// <summary>The sender, e.g. <c>Floyo DR &lt;dr@example.com&gt;</c> (for ACS: a MailFrom address of its verified domain).</summary>
    [ConfigurationKeyName("SMTP_FROM")]
    public string? From { get; set; }

    /// <summary>Comma- or semicolon-separated addresses of the engineering team (alerts, incident openings).</summary>
    [ConfigurationKeyName("NOTIFY_EMAIL_TEAM")]
    public string? Team { get; set; }

    /// <summary>Addresses for the stakeholder updates of an incident.</summary>
    [ConfigurationKeyName("NOTIFY_EMAIL_STAKEHOLDERS")]
    public string? Stakeholders { get; set; }

    /// <summary>Addresses (a customer list or a mailing-list address) told when an outage passes the customer threshold.</summary>
    [ConfigurationKeyName("NOTIFY_EMAIL_CUSTOMERS")]
    public string? Customers { get; set; }

    [ConfigurationKeyName("SMTP_TIMEOUT_SECONDS")]
    public double TimeoutSeconds { get; set; } = 30;

    public bool Configured => !string.IsNullOrWhiteSpace(Host);

    public SmtpSecurity SecurityMode => Enum.TryParse<SmtpSecurity>(Security.Trim(), ignoreCase: true, out var mode) && Enum.IsDefined(mode) ? mode : SmtpSecurity.StartTls;

    public static IReadOnlyList<MailboxAddress> Addresses(string? list) =>
        (list ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(MailboxAddress.Parse).ToList();

    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}

internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        var lists = new[] { ("NOTIFY_EMAIL_TEAM", options.Team), ("NOTIFY_EMAIL_STAKEHOLDERS", options.Stakeholders), ("NOTIFY_EMAIL_CUSTOMERS", options.Customers) };
        foreach (var (key, value) in lists.Append(("SMTP_FROM", options.From)))
        {
            foreach (var address in (value ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!MailboxAddress.TryParse(address, out var parsed) || !parsed.Address.Contains('@', StringComparison.Ordinal))
                {
                    failures.Add($"{key} holds '{address}', which is not an email address");
                }
            }
        }
        if (!options.Configured)
        {
            if (lists.Any(l => !string.IsNullOrWhiteSpace(l.Item2)))
            {
                failures.Add("NOTIFY_EMAIL_* recipients are set but SMTP_HOST is not: set the relay or remove the recipients");
            }
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
        if (string.IsNullOrWhiteSpace(options.From))
        {
            failures.Add("SMTP_FROM is required when SMTP_HOST is set");
        }
        if (options.Port is < 1 or > 65535)
        {
            failures.Add("SMTP_PORT must be between 1 and 65535");
        }
        if (!Enum.TryParse<SmtpSecurity>(options.Security.Trim(), ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
        {
            failures.Add("SMTP_SECURITY must be starttls, tls or none");
        }
        else if (mode == SmtpSecurity.None && !string.IsNullOrEmpty(options.User) && !EmailOptions.IsLoopback(options.Host!.Trim()))
        {
            failures.Add("SMTP_SECURITY=none sends SMTP_USER's password in clear: allowed only for a relay on loopback; use starttls or tls");
        }
        if (string.IsNullOrEmpty(options.User) != string.IsNullOrEmpty(options.Password))
        {
            failures.Add("SMTP_USER and SMTP_PASSWORD go together: set both or neither");
        }
        if (options.TimeoutSeconds is < 1 or > 300)
        {
            failures.Add("SMTP_TIMEOUT_SECONDS must be between 1 and 300");
        }
        if (lists.All(l => string.IsNullOrWhiteSpace(l.Item2)))
        {
            failures.Add("SMTP_HOST is set but no NOTIFY_EMAIL_TEAM, NOTIFY_EMAIL_STAKEHOLDERS or NOTIFY_EMAIL_CUSTOMERS: nobody would get email");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
