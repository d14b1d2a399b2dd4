using System.Net;

namespace Floyo.Recovery.Tests.Support;

/// <summary>
/// Fault injection under the SDK's transport: downloads (GET) of blobs whose path ends with
/// <see cref="BlobSuffix"/> have their body cut with an IOException: the first after
/// <see cref="FirstCutAfterBytes"/> bytes, later ones after <see cref="LaterCutAfterBytes"/> (null: not cut).
/// </summary>
public sealed class CutDownloads(string blobSuffix) : DelegatingHandler(new SocketsHttpHandler())
{
    private int _cuts;

    public string BlobSuffix { get; } = blobSuffix;

    public long FirstCutAfterBytes { get; set; } = 1 << 20;

    public long? LaterCutAfterBytes { get; set; }

    public int Cuts => _cuts;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.Method != HttpMethod.Get || !Uri.UnescapeDataString(request.RequestUri!.AbsolutePath).EndsWith(BlobSuffix, StringComparison.Ordinal)
            || !request.RequestUri.Query.Equals("", StringComparison.Ordinal) || response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
        {
            return response;
        }
        var limit = _cuts == 0 ? FirstCutAfterBytes : LaterCutAfterBytes;
        if (limit is null)
        {
            return response;
        }
        Interlocked.Increment(ref _cuts);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var cut = new StreamContent(new CuttingStream(body, limit.Value));
        foreach (var header in response.Content.Headers)
        {
            cut.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        response.Content = cut;
        return response;
    }

    private sealed class CuttingStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= limit)
            {
                throw new IOException("connection reset by peer (injected)");
            }
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, limit - _read)], cancellationToken);
            _read += read;
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
