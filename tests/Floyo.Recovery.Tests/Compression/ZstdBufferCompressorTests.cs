using Floyo.Recovery.Compression;
using ZstdSharp;

namespace Floyo.Recovery.Tests.Compression;

[Trait("Tier", "Fast")]
public sealed class ZstdBufferCompressorTests
{
    private static byte[] Segment(int seed)
    {
        // A WAL segment's shape: records and page images with zeroed tails.
        var random = new Random(seed);
        var data = new byte[16 << 20];
        for (var i = 0; i < data.Length; i += 8192)
        {
            random.NextBytes(data.AsSpan(i, 1024 + random.Next(2048)));
        }
        return data;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Concurrent_callers_each_get_their_own_context_and_a_whole_frame(bool allowNative)
    {
        var compressor = new ZstdBufferCompressor(2, allowNative: allowNative);
        Assert.Equal(allowNative ? "libzstd" : "ZstdSharp", compressor.Engine);
        var segments = Enumerable.Range(0, 6).Select(Segment).ToArray();
        // Twice over, so that the second round reuses the contexts the first one left.
        for (var round = 0; round < 2; round++)
        {
            var frames = await Task.WhenAll(segments.Select(s => Task.Run(() => compressor.Compress(s).ToArray())));
            for (var i = 0; i < segments.Length; i++)
            {
                using var decompressor = new Decompressor();
                Assert.Equal(segments[i], decompressor.Unwrap(frames[i]).ToArray());
                Assert.Equal((ulong)segments[i].Length, Decompressor.GetDecompressedSize(frames[i]));
            }
        }
    }

    [Fact]
    public void Both_engines_write_frames_the_other_reads_into_a_caller_buffer()
    {
        var segment = Segment(42);
        var buffer = new byte[ZstdBufferCompressor.Bound(segment.Length) + 100];
        var native = new ZstdBufferCompressor(3).Compress(segment, buffer);
        Assert.True(native < segment.Length / 2, $"{native} bytes");
        using var decompressor = new Decompressor();
        Assert.Equal(segment, decompressor.Unwrap(buffer.AsSpan(0, native)).ToArray());
        var managed = new ZstdBufferCompressor(3, allowNative: false).Compress(segment);
        Assert.Equal(segment, decompressor.Unwrap(managed.Span).ToArray());
        Assert.Empty(decompressor.Unwrap(new ZstdBufferCompressor(3).Compress([]).Span).ToArray());
    }

    [Fact]
    public void A_destination_shorter_than_the_bound_is_refused_before_compressing()
    {
        var error = Assert.Throws<ArgumentException>(() => new ZstdBufferCompressor(3).Compress(new byte[1000], new byte[100]));
        Assert.StartsWith("the destination holds 100 bytes", error.Message, StringComparison.Ordinal);
    }
}
