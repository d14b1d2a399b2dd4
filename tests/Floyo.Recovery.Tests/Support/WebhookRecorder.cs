using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Floyo.Recovery.Tests.Support;

public sealed record ReceivedPost(string Path, string ContentType, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>
/// A real HTTP server on a loopback port (HttpListener) that records every POST and answers with a chosen
/// status: the stand-in for PagerDuty and Slack, reached by the notifier's real HttpClient.
/// </summary>
public sealed class WebhookRecorder : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public WebhookRecorder()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public ConcurrentQueue<ReceivedPost> Posts { get; } = new();

    /// <summary>The status every request is answered with (202 by default, as PagerDuty answers).</summary>
    public HttpStatusCode Answer { get; set; } = HttpStatusCode.Accepted;

    /// <summary>When set, awaited before a post is answered (after it is recorded): lets a test hold a sender mid-request.</summary>
    public Func<ReceivedPost, Task>? Hold { get; set; }

    /// <summary>A URL on this server; the path plays the secret part of a webhook URL.</summary>
    public string Url(string path) => $"http://127.0.0.1:{Port}/{path.TrimStart('/')}";

    public IReadOnlyList<ReceivedPost> To(string path) => [.. Posts.Where(p => p.Path == "/" + path.TrimStart('/'))];

    public async Task<IReadOnlyList<ReceivedPost>> WaitForAsync(string path, Func<ReceivedPost, bool> match, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = To(path).Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }
            Assert.True(DateTime.UtcNow < deadline, $"only {found.Count} of {count} posts to /{path} within {timeout}");
            await Task.Delay(100);
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var post = new ReceivedPost(context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", body);
            Posts.Enqueue(post);
            _ = AnswerAsync(context, post);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context, ReceivedPost post)
    {
        try
        {
            if (Hold is { } hold)
            {
                await hold(post);
            }
            context.Response.StatusCode = (int)Answer;
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The sender gave up (or the server stopped) while the answer was held.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
