namespace Floyo.Recovery.Compression;

/// <summary>A write-only stream that compresses into <paramref name="destination"/> with the system's libzstd (one zstd frame).</summary>
internal sealed class NativeZstdCompressionStream : Stream
{
    private const int OutputSize = 1 << 20;

    private readonly Stream _destination;
    private readonly bool _leaveOpen;
    private readonly NativeZstd.Functions _api = NativeZstd.Api;
    private readonly byte[] _output = new byte[OutputSize];
    private nint _context;

    public unsafe NativeZstdCompressionStream(Stream destination, int level, int workers, bool leaveOpen, ZstdParameters? parameters = null)
    {
        _destination = destination;
        _leaveOpen = leaveOpen;
        _context = _api.CreateContext();
        if (_context == 0)
        {
            throw new OutOfMemoryException("libzstd could not allocate a compression context");
        }
        Check(_api.SetParameter(_context, NativeZstd.CompressionLevelParameter, level));
        Check(_api.SetParameter(_context, NativeZstd.WorkersParameter, workers));
        foreach (var (parameter, value) in (parameters ?? ZstdParameters.None).Settings())
        {
            Check(_api.SetParameter(_context, parameter, value));
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var consumed = 0;
        bool done;
        do
        {
            (consumed, var produced, done) = Step(buffer, consumed, NativeZstd.EndContinue);
            _destination.Write(_output, 0, produced);
        }
        while (!done);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var consumed = 0;
        bool done;
        do
        {
            (consumed, var produced, done) = Step(buffer.Span, consumed, NativeZstd.EndContinue);
            if (produced > 0)
            {
                await _destination.WriteAsync(_output.AsMemory(0, produced), cancellationToken);
            }
        }
        while (!done);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _destination.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Ends the frame; until then the output is not a complete zstd stream.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        bool done;
        do
        {
            (_, var produced, done) = Step([], 0, NativeZstd.EndFinish);
            if (produced > 0)
            {
                await _destination.WriteAsync(_output.AsMemory(0, produced), ct);
            }
        }
        while (!done);
    }

    /// <summary>One call into libzstd; done when the input is consumed (continue) or the frame is complete (finish).</summary>
    private unsafe (int Consumed, int Produced, bool Done) Step(ReadOnlySpan<byte> input, int consumed, int mode)
    {
        ObjectDisposedException.ThrowIf(_context == 0, this);
        fixed (byte* inputs = input)
        fixed (byte* outputs = _output)
        {
            var inBuffer = new NativeZstd.Buffer { Data = inputs, Size = (nuint)input.Length, Position = (nuint)consumed };
            var outBuffer = new NativeZstd.Buffer { Data = outputs, Size = OutputSize, Position = 0 };
            var remaining = Check(_api.CompressStream2(_context, &outBuffer, &inBuffer, mode));
            var done = mode == NativeZstd.EndFinish ? remaining == 0 : inBuffer.Position == inBuffer.Size;
            return ((int)inBuffer.Position, (int)outBuffer.Position, done);
        }
    }

    private unsafe nuint Check(nuint code) =>
        _api.IsError(code) != 0 ? throw new IOException($"zstd compression failed: {_api.Error(code)}") : code;

    protected override void Dispose(bool disposing)
    {
        Release();
        if (disposing && !_leaveOpen)
        {
            _destination.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        Release();
        if (!_leaveOpen)
        {
            await _destination.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    ~NativeZstdCompressionStream() => Release();

    private unsafe void Release()
    {
        var context = Interlocked.Exchange(ref _context, 0);
        if (context != 0)
        {
            _api.FreeContext(context);
        }
    }
}
