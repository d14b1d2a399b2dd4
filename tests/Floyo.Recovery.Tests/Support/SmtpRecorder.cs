using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floyo.Recovery.Tests.Support;

/// <summary>One message as the relay took it: envelope, the AUTH it saw (decoded), and the raw DATA.</summary>
public sealed record ReceivedMail(string From, IReadOnlyList<string> Recipients, string? Login, string Data)
{
    public string Header(string name) =>
        Data.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim() ?? "";
}

/// <summary>
/// An SMTP relay on a loopback port speaking just enough of RFC 5321 for MailKit's real client: EHLO (with
/// AUTH PLAIN/LOGIN), AUTH, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT. No TLS, so tests use SMTP_SECURITY=none.
/// <see cref="RejectLogin"/> answers every AUTH with 535.
/// </summary>
public sealed class SmtpRecorder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public SmtpRecorder()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public ConcurrentQueue<ReceivedMail> Mails { get; } = new();

    /// <summary>Every line the client sent, AUTH lines included: a test can prove the password went only there.</summary>
    public ConcurrentQueue<string> Transcript { get; } = new();

    public bool RejectLogin { get; set; }

    public async Task<IReadOnlyList<ReceivedMail>> WaitForAsync(Func<ReceivedMail, bool> match, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = Mails.Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }
            Assert.True(DateTime.UtcNow < deadline, $"only {found.Count} of {count} mails within {timeout}");
            await Task.Delay(100);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 127.0.0.1 floyo-test ESMTP");
            string? from = null;
            string? login = null;
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                Transcript.Enqueue(line);
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteAsync("250-127.0.0.1 hello\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
                        break;
                    case "HELO":
                        await writer.WriteLineAsync("250 127.0.0.1 hello");
                        break;
                    case "AUTH":
                        login = await AuthAsync(line, reader, writer);
                        break;
                    case "MAIL":
                        from = Address(line);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.1.0 ok");
                        break;
                    case "RCPT":
                        recipients.Add(Address(line));
                        await writer.WriteLineAsync("250 2.1.5 ok");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } d && d != ".")
                        {
                            data.Append(d.StartsWith("..", StringComparison.Ordinal) ? d[1..] : d).Append("\r\n");
                        }
                        Mails.Enqueue(new ReceivedMail(from ?? "", [.. recipients], login, data.ToString()));
                        await writer.WriteLineAsync("250 2.0.0 queued");
                        break;
                    case "RSET" or "NOOP":
                        await writer.WriteLineAsync("250 ok");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 5.5.2 not implemented");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The client hung up, or the test is over.
        }
    }

    /// <summary>AUTH PLAIN (inline or after a 334) and AUTH LOGIN; returns "user:password" as decoded.</summary>
    private async Task<string?> AuthAsync(string line, StreamReader reader, StreamWriter writer)
    {
        var parts = line.Split(' ');
        string? credentials;
        if (parts[1].Equals("PLAIN", StringComparison.OrdinalIgnoreCase))
        {
            var encoded = parts.Length > 2 ? parts[2] : await NextAsync("334 ");
            var fields = Encoding.UTF8.GetString(Convert.FromBase64String(encoded!)).Split('\0');
            credentials = $"{fields[1]}:{fields[2]}";
        }
        else
        {
            var user = parts.Length > 2 ? parts[2] : await NextAsync("334 VXNlcm5hbWU6");
            var password = await NextAsync("334 UGFzc3dvcmQ6");
            credentials = $"{Decode(user)}:{Decode(password)}";
        }
        await writer.WriteLineAsync(RejectLogin ? "535 5.7.8 authentication failed" : "235 2.7.0 authenticated");
        return RejectLogin ? null : credentials;

        async Task<string?> NextAsync(string prompt)
        {
            await writer.WriteLineAsync(prompt);
            var next = await reader.ReadLineAsync(_stop.Token);
            Transcript.Enqueue(next ?? "");
            return next;
        }

        static string Decode(string? b64) => Encoding.UTF8.GetString(Convert.FromBase64String(b64 ?? ""));
    }

    private static string Address(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal);
        var end = line.IndexOf('>', StringComparison.Ordinal);
        return start >= 0 && end > start ? line[(start + 1)..end] : "";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
