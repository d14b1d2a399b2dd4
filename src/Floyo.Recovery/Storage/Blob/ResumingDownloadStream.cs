using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>
/// Reads one committed blob version start to end. When the connection drops mid-stream it asks again
/// for the rest (a range from the current offset, pinned to the same ETag so a changed blob can never be
/// stitched in); after <c>maxResumes</c> failed attempts it throws, and a read that ends short of the
/// blob's length is an error rather than a clean end of stream. Callers therefore never mistake a
/// partial download for the whole object.
/// </summary>
internal sealed class ResumingDownloadStream(BlockBlobClient blob, ETag etag, long length, string location, int maxResumes = 5) : Stream
{
    private Stream? _current;
    private long _position;
    private int _resumes;
    private int _failuresInARow;

    public int Resumes => _resumes;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0 || _position >= length)
        {
            return 0;
        }
        while (true)
        {
            Exception failure;
            try
            {
                _current ??= await OpenAtAsync(_position, cancellationToken);
                var read = await _current.ReadAsync(buffer, cancellationToken);
                if (read > 0)
                {
                    _failuresInARow = 0;
                    _position += read;
                    return read;
                }
                failure = new EndOfStreamException($"the service ended the response at byte {_position} of {length}");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412 || e.ErrorCode is "ConditionNotMet" or "BlobNotFound")
            {
                throw new RecoveryException($"'{blob.Name}' in {location} changed or disappeared while it was being read (HTTP {e.Status}); nothing partial was used", e);
            }
            catch (Exception e) when (BlobErrors.IsStorageFailure(e) || e is RecoveryException)
            {
                failure = e;
            }
            await DropCurrentAsync();
            _resumes++;
            if (++_failuresInARow > maxResumes)
            {
                throw new RecoveryException(
                    $"download of '{blob.Name}' from {location} was interrupted at byte {_position} of {length} and could not be resumed ({maxResumes} attempts in a row failed; last: {BlobErrors.Map(failure, location).Message}); nothing partial was used",
                    failure);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(4000, 250 * (1 << Math.Min(_resumes, 4)))), cancellationToken);
        }
    }

    private async Task<Stream> OpenAtAsync(long offset, CancellationToken ct)
    {
        var response = await blob.DownloadStreamingAsync(new BlobDownloadOptions
        {
            Range = new HttpRange(offset),
            Conditions = new BlobRequestConditions { IfMatch = etag },
        }, ct);
        return response.Value.Content;
    }

    private async Task DropCurrentAsync()
    {
        if (_current is not null)
        {
            try
            {
                await _current.DisposeAsync();
            }
            catch (Exception)
            {
                // The broken connection is discarded either way.
            }
            _current = null;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }
        base.Dispose(disposing);
    }

    public override void Flush() => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
