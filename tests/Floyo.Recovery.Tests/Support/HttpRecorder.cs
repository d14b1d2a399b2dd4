using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Floyo.Recovery.Tests.Support;

public sealed record RecordedRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Uri.AbsolutePath;

    public string? Comp => System.Web.HttpUtility.ParseQueryString(Uri.Query)["comp"];

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>Records every request the real SDK client sends (each retry too), headers included.</summary>
public sealed class HttpRecorder : HttpPipelinePolicy
{
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public IEnumerable<RecordedRequest> To(string blobNameSuffix) =>
        Requests.Where(r => Uri.UnescapeDataString(r.Path).EndsWith("/" + blobNameSuffix, StringComparison.Ordinal));

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Record(HttpMessage message)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in message.Request.Headers)
        {
            headers[header.Name.ToLowerInvariant()] = header.Value;
        }
        Requests.Enqueue(new RecordedRequest(message.Request.Method.ToString(), message.Request.Uri.ToUri(), headers));
    }
}
