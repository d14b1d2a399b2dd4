namespace Floyo.Recovery.Wal;

/// <summary>
/// Tars stored one after another in one stream (a server-compressed base backup: the server's archive, then
/// its manifest). TarReader stops at an archive's first end block; what follows is found here.
/// </summary>
public static class BaseBackupTarSequence
{
    private const int Block = 512;

    /// <summary>
    /// After a TarReader has reached the end of one archive: skips the rest of its end blocks and returns a stream
    /// that starts at the next archive's first header, or null at the end of the stream.
    /// </summary>
    public static async Task<Stream?> NextArchiveAsync(Stream tars, CancellationToken ct)
    {
        var block = new byte[Block];
        while (true)
        {
            var read = await tars.ReadAtLeastAsync(block, Block, throwOnEndOfStream: false, ct);
            if (read == 0)
            {
                return null;
            }
            if (read < Block)
            {
                // Zeros short of a block are a writer's padding; anything else is damage.
                return block.AsSpan(0, read).ContainsAnyExcept((byte)0)
                    ? throw new RecoveryException("the base backup ends inside a tar block: it is truncated or damaged")
                    : null;
            }
            if (block.AsSpan().ContainsAnyExcept((byte)0))
            {
                return new ReplayStream(block, tars);
            }
        }
    }

    /// <summary>Reads <paramref name="head"/>, then <paramref name="rest"/>.</summary>
    private sealed class ReplayStream(byte[] head, Stream rest) : Stream
    {
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < head.Length)
            {
                var take = Math.Min(buffer.Length, head.Length - _offset);
                head.AsSpan(_offset, take).CopyTo(buffer);
                _offset += take;
                return take;
            }
            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _offset < head.Length ? Read(buffer.Span) : await rest.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
