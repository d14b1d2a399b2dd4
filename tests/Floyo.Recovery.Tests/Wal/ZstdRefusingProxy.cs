using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// A PostgreSQL built without zstd, at the protocol level: a loopback proxy in front of a real server that
/// forwards everything, except that a BASE_BACKUP asking for zstd is answered as such a server answers it (an
/// ErrorResponse, SQLSTATE 42601, "invalid compression specification: this build does not support compression
/// with ZSTD", then ReadyForQuery) without reaching the server. Encryption requests are declined so the stream
/// stays readable.
/// </summary>
public sealed class ZstdRefusingProxy : IAsyncDisposable
{
    public const string Refusal = "invalid compression specification: this build does not support compression with ZSTD";

    private const int SslRequest = 80877103;
    private const int GssRequest = 80877104;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _serverPort;
    private readonly string _refusal;
    private readonly Task _accepting;
    private int _refused;
    private int _forwarded;

    /// <param name="refusal">The error message to answer with: the real one by default, or another failure.</param>
    public ZstdRefusingProxy(int serverPort, string refusal = Refusal)
    {
        _serverPort = serverPort;
        _refusal = refusal;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>BASE_BACKUP commands refused for asking the server to compress with zstd.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>BASE_BACKUP commands passed to the server.</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

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
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            var fromClient = client.GetStream();
            var toServer = server.GetStream();
            var toClient = new SemaphoreSlim(1, 1);
            var back = PumpAsync(toServer, fromClient, toClient);
            await ForwardAsync(fromClient, toServer, toClient);
            await back;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A side hung up: so does the other.
        }
    }

    /// <summary>Client to server: untyped packets (encryption requests, startup) first, then typed messages.</summary>
    private async Task ForwardAsync(NetworkStream client, NetworkStream server, SemaphoreSlim toClient)
    {
        while (true)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(await ReadExactlyAsync(client, 4));
            var body = await ReadExactlyAsync(client, length - 4);
            var code = BinaryPrimitives.ReadInt32BigEndian(body);
            if (code is SslRequest or GssRequest)
            {
                await WriteAsync(client, toClient, "N"u8.ToArray());
                continue;
            }
            await server.WriteAsync(Frame(null, body), _stop.Token);
            break;
        }
        while (true)
        {
            var header = await ReadExactlyAsync(client, 5);
            var body = await ReadExactlyAsync(client, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4);
            var text = header[0] == (byte)'Q' ? Encoding.UTF8.GetString(body) : "";
            if (text.Contains("BASE_BACKUP", StringComparison.Ordinal))
            {
                if (text.Contains("COMPRESSION 'zstd'", StringComparison.OrdinalIgnoreCase))
                {
                    Interlocked.Increment(ref _refused);
                    await WriteAsync(client, toClient, ErrorResponse(_refusal).Concat(ReadyForQuery()).ToArray());
                    continue;
                }
                Interlocked.Increment(ref _forwarded);
            }
            await server.WriteAsync(Frame(header[0], body), _stop.Token);
            if (header[0] == (byte)'X')
            {
                return;
            }
        }
    }

    private async Task PumpAsync(NetworkStream server, NetworkStream client, SemaphoreSlim toClient)
    {
        var buffer = new byte[64 << 10];
        int read;
        while ((read = await server.ReadAsync(buffer, _stop.Token)) > 0)
        {
            await WriteAsync(client, toClient, buffer.AsMemory(0, read));
        }
        client.Socket.Shutdown(SocketShutdown.Send);
    }

    private async Task WriteAsync(NetworkStream client, SemaphoreSlim gate, ReadOnlyMemory<byte> bytes)
    {
        await gate.WaitAsync(_stop.Token);
        try
        {
            await client.WriteAsync(bytes, _stop.Token);
        }
        finally
        {
            gate.Release();
        }
    }

    private static byte[] ErrorResponse(string message)
    {
        var fields = new List<byte>();
        foreach (var (type, value) in new[] { ('S', "ERROR"), ('V', "ERROR"), ('C', "42601"), ('M', message) })
        {
            fields.Add((byte)type);
            fields.AddRange(Encoding.UTF8.GetBytes(value));
            fields.Add(0);
        }
        fields.Add(0);
        return Frame((byte)'E', [.. fields]);
    }

    private static byte[] ReadyForQuery() => Frame((byte)'Z', "I"u8.ToArray());

    private static byte[] Frame(byte? type, byte[] body)
    {
        var offset = type is null ? 0 : 1;
        var frame = new byte[offset + 4 + body.Length];
        if (type is { } t)
        {
            frame[0] = t;
        }
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(offset), body.Length + 4);
        body.CopyTo(frame, offset + 4);
        return frame;
    }

    private async Task<byte[]> ReadExactlyAsync(NetworkStream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, _stop.Token);
        return buffer;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
