using Floyo.Recovery.Compression;
using ZstdSharp;

namespace Floyo.Recovery.Tests.Compression;

[Trait("Tier", "Fast")]
public sealed class ZstdFrameWriterTests
{
    /// <summary>Compressible and incompressible stretches, longer than a zstd worker's job, so several workers take part.</summary>
    private static byte[] Sample()
    {
        var random = new Random(7);
        var data = new byte[24 << 20];
        for (var i = 0; i < data.Length; i += 8192)
        {
            if (i / 8192 % 3 == 0)
            {
                random.NextBytes(data.AsSpan(i, 8192));
            }
            else
            {
                data.AsSpan(i, 8192).Fill((byte)(i / 8192 % 251));
            }
        }
        return data;
    }

    private static async Task<(byte[] Compressed, string Engine)> CompressAsync(byte[] data, bool allowNative, int chunk)
    {
        using var output = new MemoryStream();
        string engine;
        await using (var writer = ZstdFrameWriter.Create(output, level: 3, workers: 2, allowNative))
        {
            engine = writer.Engine;
            for (var i = 0; i < data.Length; i += chunk)
            {
                await writer.WriteAsync(data.AsMemory(i, Math.Min(chunk, data.Length - i)), CancellationToken.None);
            }
            await writer.FinishAsync(CancellationToken.None);
        }
        return (output.ToArray(), engine);
    }

    private static byte[] Decompress(byte[] compressed)
    {
        using var input = new DecompressionStream(new MemoryStream(compressed));
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public async Task The_system_libzstd_writes_a_frame_ZstdSharp_reads_back()
    {
        Assert.True(NativeZstd.Available, "libzstd.so.1 (Debian's libzstd1) is on this machine: the fast path must be taken");
        var data = Sample();
        var (compressed, engine) = await CompressAsync(data, allowNative: true, chunk: 1 << 20);
        Assert.Equal("libzstd", engine);
        Assert.True(compressed.Length < data.Length / 2, $"{compressed.Length} bytes");
        Assert.Equal(data, Decompress(compressed));
    }

    [Fact]
    public async Task ZstdSharp_takes_over_without_the_system_library_and_writes_the_same_format()
    {
        var data = Sample();
        var (managed, engine) = await CompressAsync(data, allowNative: false, chunk: 65536);
        Assert.Equal("ZstdSharp", engine);
        Assert.Equal(data, Decompress(managed));
    }

    [Fact]
    public async Task A_writer_disposed_without_finishing_leaves_no_complete_frame()
    {
        var data = Sample();
        using var output = new MemoryStream();
        await using (var writer = ZstdFrameWriter.Create(output, level: 3, workers: 2))
        {
            await writer.WriteAsync(data, CancellationToken.None);
        }
        Assert.ThrowsAny<Exception>(() => Decompress(output.ToArray()));
    }

    [Fact]
    public async Task Small_and_odd_writes_round_trip()
    {
        var data = Sample().AsSpan(0, 3 << 20).ToArray();
        var (compressed, _) = await CompressAsync(data, allowNative: true, chunk: 4097);
        Assert.Equal(data, Decompress(compressed));
        var (empty, _) = await CompressAsync([], allowNative: true, chunk: 1);
        Assert.Empty(Decompress(empty));
    }
}
