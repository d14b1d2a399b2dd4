using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floyo.Recovery.Tests.Support;

/// <summary>What one client told the fake server before it hung up: its startup parameters and any password.</summary>
public sealed record FakePostgresContact(IReadOnlyDictionary<string, string> Startup, string? Password)
{
    /// <summary>For assertion messages: who connected and whether a password came, never the password itself.</summary>
    public override string ToString() =>
        $"user '{Startup.GetValueOrDefault("user")}', database '{Startup.GetValueOrDefault("database")}', {(Password is null ? "no password" : $"a password of {Password.Length} characters")}";
}

/// <summary>
/// A server on loopback that speaks just enough of PostgreSQL's protocol to collect what a client would send
/// to an attacker's listener: it declines SSL and GSS encryption, reads the startup packet, asks for a
/// cleartext password (libpq answers that with PGPASSWORD) and records it, then hangs up.
/// </summary>
public sealed class FakePostgresListener : IAsyncDisposable
{
    private const int SslRequest = 80877103;
    private const int GssRequest = 80877104;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private FakePostgresListener()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Every client that connected, in order; a client that sent nothing is recorded with empty startup parameters.</summary>
    public ConcurrentQueue<FakePostgresContact> Contacts { get; } = new();

    public string Describe() => Contacts.IsEmpty ? "nothing" : string.Join("; ", Contacts);

    public static FakePostgresListener Start() => new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var startup = new Dictionary<string, string>(StringComparer.Ordinal);
        string? password = null;
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            var stream = client.GetStream();
            try
            {
                while (true)
                {
                    var body = await ReadAsync(stream, await ReadLengthAsync(stream, timeout.Token) - 4, timeout.Token);
                    var code = BinaryPrimitives.ReadInt32BigEndian(body);
                    if (code is SslRequest or GssRequest)
                    {
                        await stream.WriteAsync("N"u8.ToArray(), timeout.Token);
                        continue;
                    }
                    var fields = Encoding.UTF8.GetString(body, 4, body.Length - 4).Split('\0');
                    for (var i = 0; i + 1 < fields.Length && fields[i].Length > 0; i += 2)
                    {
                        startup[fields[i]] = fields[i + 1];
                    }
                    break;
                }
                // AuthenticationCleartextPassword: 'R', length 8, code 3.
                await stream.WriteAsync(new byte[] { (byte)'R', 0, 0, 0, 8, 0, 0, 0, 3 }, timeout.Token);
                var type = await ReadAsync(stream, 1, timeout.Token);
                if (type[0] == (byte)'p')
                {
                    var message = await ReadAsync(stream, await ReadLengthAsync(stream, timeout.Token) - 4, timeout.Token);
                    password = Encoding.UTF8.GetString(message).TrimEnd('\0');
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or EndOfStreamException)
            {
                // The client hung up or went quiet: what it sent so far is recorded below.
            }
        }
        Contacts.Enqueue(new FakePostgresContact(startup, password));
    }

    private static async Task<int> ReadLengthAsync(NetworkStream stream, CancellationToken ct) =>
        BinaryPrimitives.ReadInt32BigEndian(await ReadAsync(stream, 4, ct));

    private static async Task<byte[]> ReadAsync(NetworkStream stream, int count, CancellationToken ct)
    {
        if (count is < 0 or > 1 << 16)
        {
            throw new EndOfStreamException("not a PostgreSQL message");
        }
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, ct);
        return buffer;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
