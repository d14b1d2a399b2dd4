using System.Security.Cryptography;
using System.Text;
using Azure.Storage;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>
/// A write-only stream that cuts what it is given into fixed-size blocks and stages them on a block blob,
/// several at once. Memory stays bounded (one filling block plus at most <c>parallelism</c> in flight);
/// a writer that is faster than the network waits for the oldest block. Nothing becomes visible until
/// the caller commits <see cref="BlockIds"/>; blocks that are never committed expire on the service.
/// </summary>
internal sealed class BlockUploadStream : Stream
{
    private readonly BlockBlobClient _blob;
    private readonly int _blockSize;
    private readonly int _parallelism;
    private readonly string _idPrefix = Guid.NewGuid().ToString("N");
    private readonly List<string> _ids = [];
    private readonly Queue<Task> _inFlight = new();
    private readonly CancellationTokenSource _abort = new();
    // Our own small pool: at most parallelism + 1 buffers ever exist, so memory is bounded by design.
    private readonly Stack<byte[]> _free = new();
    private byte[]? _current;
    private int _filled;
    private long _length;
    private readonly string _location;
    private bool _sealed;
    private bool _disposed;

    public BlockUploadStream(BlockBlobClient blob, int blockSize, int parallelism, string location)
    {
        _blob = blob;
        _location = location;
        _blockSize = blockSize;
        _parallelism = Math.Max(1, parallelism);
    }

    public IReadOnlyList<string> BlockIds => _ids;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_sealed;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_sealed, this);
        while (buffer.Length > 0)
        {
            _current ??= TakeBuffer();
            var take = Math.Min(buffer.Length, _blockSize - _filled);
            buffer.Span[..take].CopyTo(_current.AsSpan(_filled));
            _filled += take;
            _length += take;
            buffer = buffer[take..];
            if (_filled == _blockSize)
            {
                await DispatchAsync(cancellationToken);
            }
        }
    }

    public override void Flush()
    {
        // Blocks are staged when full; the last one on Complete. Flushing must not cut short blocks.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stages the last partial block and waits for every block; after this the block list is final.</summary>
    public async Task<IReadOnlyList<string>> CompleteAsync(CancellationToken ct)
    {
        if (!_sealed)
        {
            if (_filled > 0)
            {
                await DispatchAsync(ct);
            }
            _sealed = true;
        }
        while (_inFlight.Count > 0)
        {
            await _inFlight.Dequeue();
        }
        return _ids;
    }

    private byte[] TakeBuffer()
    {
        lock (_free)
        {
            return _free.Count > 0 ? _free.Pop() : new byte[_blockSize];
        }
    }

    private async Task DispatchAsync(CancellationToken ct)
    {
        // Back-pressure: at most _parallelism blocks on the wire. A failed block fails the next write.
        while (_inFlight.Count >= _parallelism)
        {
            await _inFlight.Dequeue();
        }
        var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{_idPrefix}-{_ids.Count:D8}"));
        _ids.Add(id);
        var block = _current ?? [];
        var length = _filled;
        _current = null;
        _filled = 0;
        _inFlight.Enqueue(StageAsync(id, block, length, ct));
    }

    private async Task StageAsync(string id, byte[] block, int length, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _abort.Token);
        try
        {
            using var content = new MemoryStream(block, 0, length, writable: false);
            // A transactional MD5 lets the service reject a block damaged in transit (and spares Azurite
            // its much slower JavaScript CRC64 of every block, which dominated Blob backup time here).
            await _blob.StageBlockAsync(id, content, new BlockBlobStageBlockOptions
            {
                TransferValidation = new UploadTransferValidationOptions
                {
                    ChecksumAlgorithm = StorageChecksumAlgorithm.MD5,
                    PrecalculatedChecksum = MD5.HashData(block.AsSpan(0, length)),
                },
            }, linked.Token);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, _location, $"staging a block of '{_blob.Name}'");
        }
        finally
        {
            if (block.Length > 0)
            {
                lock (_free)
                {
                    _free.Push(block);
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _sealed = true;
        await _abort.CancelAsync();
        while (_inFlight.Count > 0)
        {
            try
            {
                await _inFlight.Dequeue();
            }
            catch (Exception)
            {
                // Abandoned blocks: never committed, so never visible; the service drops them.
            }
        }
        _current = null;
        lock (_free)
        {
            _free.Clear();
        }
        _abort.Dispose();
        GC.SuppressFinalize(this);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
