using Floyo.Recovery.Compression;
using Floyo.Recovery.Wal;
using ZstdSharp;

namespace Floyo.Recovery.Tests.Compression;

[Trait("Tier", "Fast")]
public sealed class ZstdParametersTests
{
    /// <summary>Text-like rows with repeats at several distances and random stretches, over a few MiB.</summary>
    private static byte[] Sample()
    {
        var random = new Random(11);
        var data = new byte[6 << 20];
        var words = "account order invoice payment refund shipment cart checkout login logout "u8.ToArray();
        for (var i = 0; i < data.Length; i += 4096)
        {
            var block = data.AsSpan(i, 4096);
            if (i / 4096 % 4 == 0)
            {
                random.NextBytes(block);
            }
            else
            {
                for (var j = 0; j < block.Length; j++)
                {
                    block[j] = words[(j * 7 + i / 4096) % words.Length];
                }
                block[random.Next(block.Length)] = (byte)random.Next(256);
            }
        }
        return data;
    }

    private static byte[] Decompress(ReadOnlySpan<byte> compressed)
    {
        using var input = new DecompressionStream(new MemoryStream(compressed.ToArray()));
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static async Task<byte[]> FrameAsync(byte[] data, ZstdParameters parameters, bool allowNative, int workers = 2)
    {
        using var output = new MemoryStream();
        await using (var writer = ZstdFrameWriter.Create(output, level: 3, workers: workers, allowNative, parameters: parameters))
        {
            Assert.Equal(allowNative ? "libzstd" : "ZstdSharp", writer.Engine);
            await writer.WriteAsync(data, CancellationToken.None);
            await writer.FinishAsync(CancellationToken.None);
        }
        return output.ToArray();
    }

    public static TheoryData<string, bool> EveryParameter()
    {
        var data = new TheoryData<string, bool>();
        foreach (var text in new[]
        {
            "strategy=fast", "strategy=dfast", "strategy=greedy", "strategy=lazy2", "strategy=btopt", "strategy=btultra2",
            "windowLog=18", "windowLog=27", "hashLog=12", "hashLog=22", "chainLog=12", "chainLog=20", "searchLog=1", "searchLog=6",
            "minMatch=3", "minMatch=7", "targetLength=0", "targetLength=64", WalOptions.DefaultBaseBackupZstdParameters,
        })
        {
            data.Add(text, true);
            data.Add(text, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryParameter))]
    public async Task Every_parameter_round_trips_through_both_engines(string text, bool allowNative)
    {
        var data = Sample();
        var compressed = await FrameAsync(data, ZstdParameters.Parse(text), allowNative);
        Assert.True(compressed.Length < data.Length * 0.6, $"{text}: {compressed.Length} bytes");
        Assert.Equal(data, Decompress(compressed));
        var buffer = new ZstdBufferCompressor(3, ZstdParameters.Parse(text), allowNative);
        Assert.Equal(data, Decompress(buffer.Compress(data).Span));
    }

    [Fact]
    public async Task The_parameters_reach_the_compressor()
    {
        // The window decides what a match may reach back to: a 1 MiB random block repeated after 1 MiB
        // compresses only with a window of more than 1 MiB.
        var block = new byte[1 << 20];
        new Random(3).NextBytes(block);
        var data = block.Concat(block).ToArray();
        foreach (var allowNative in new[] { true, false })
        {
            var small = await FrameAsync(data, ZstdParameters.Parse("windowLog=19"), allowNative, workers: 0);
            var large = await FrameAsync(data, ZstdParameters.Parse("windowLog=21"), allowNative, workers: 0);
            Assert.True(small.Length > data.Length * 0.9, $"windowLog=19 ({(allowNative ? "libzstd" : "ZstdSharp")}): {small.Length} bytes");
            Assert.True(large.Length < data.Length * 0.6, $"windowLog=21 ({(allowNative ? "libzstd" : "ZstdSharp")}): {large.Length} bytes");
            var buffered = new ZstdBufferCompressor(3, ZstdParameters.Parse("windowLog=19"), allowNative).Compress(data);
            Assert.True(buffered.Length > data.Length * 0.9, $"buffer, windowLog=19: {buffered.Length} bytes");
        }
    }

    [Fact]
    public async Task The_tuned_default_is_read_by_ZstdSharps_decoder_which_restore_uses()
    {
        var data = Sample();
        var parameters = new WalOptions().BaseBackupZstd();
        Assert.Equal(ZstdParameters.Parse(WalOptions.DefaultBaseBackupZstdParameters), parameters);
        Assert.False(parameters.IsEmpty);
        Assert.Equal(data, Decompress(await FrameAsync(data, parameters, allowNative: true)));
        using var decompressor = new Decompressor();
        Assert.Equal(data, decompressor.Unwrap(await FrameAsync(data, parameters, allowNative: true, workers: 0)).ToArray());
    }

    [Fact]
    public void Parses_names_numbers_and_spacing_and_prints_them_back()
    {
        var parameters = ZstdParameters.Parse(" Strategy = FAST , windowLog=21,hashlog=18, chainLog=16,searchLog=2,minMatch=5,targetLength=16 ");
        Assert.Equal(new ZstdParameters { Strategy = 1, WindowLog = 21, HashLog = 18, ChainLog = 16, SearchLog = 2, MinMatch = 5, TargetLength = 16 }, parameters);
        Assert.Equal("strategy=fast,windowLog=21,hashLog=18,chainLog=16,searchLog=2,minMatch=5,targetLength=16", parameters.ToString());
        Assert.Equal(9, ZstdParameters.Parse("strategy=9").Strategy);
        Assert.Equal(
            [(107, 2), (101, 22)],
            ZstdParameters.Parse("windowLog=22,strategy=dfast").Settings().ToArray());
        Assert.True(ZstdParameters.Parse("").IsEmpty);
        Assert.True(ZstdParameters.Parse(null).IsEmpty);
        Assert.Empty(ZstdParameters.Parse("  ").Settings());
    }

    [Theory]
    [InlineData("strategy=fastest", "strategy=fastest is out of range (allowed: fast, dfast, greedy, lazy, lazy2, btlazy2, btopt, btultra, btultra2 or 1-9)")]
    [InlineData("strategy=0", "strategy=0 is out of range (allowed: fast, dfast, greedy, lazy, lazy2, btlazy2, btopt, btultra, btultra2 or 1-9)")]
    [InlineData("windowLog=28", "windowLog=28 is out of range (allowed: 10-27)")]
    [InlineData("windowLog=9", "windowLog=9 is out of range (allowed: 10-27)")]
    [InlineData("hashLog=31", "hashLog=31 is out of range (allowed: 6-30)")]
    [InlineData("chainLog=5", "chainLog=5 is out of range (allowed: 6-30)")]
    [InlineData("searchLog=0", "searchLog=0 is out of range (allowed: 1-30)")]
    [InlineData("minMatch=8", "minMatch=8 is out of range (allowed: 3-7)")]
    [InlineData("targetLength=-1", "targetLength=-1 is out of range (allowed: 0-131072)")]
    [InlineData("minMatch=five", "minMatch=five is out of range (allowed: 3-7)")]
    [InlineData("level=3", "unknown key 'level' (allowed: strategy, windowLog, hashLog, chainLog, searchLog, minMatch, targetLength)")]
    [InlineData("windowLog", "'windowLog' is not key=value (e.g. strategy=fast,windowLog=21,hashLog=18,minMatch=5)")]
    [InlineData("windowLog=21,", "'' is not key=value (e.g. strategy=fast,windowLog=21,hashLog=18,minMatch=5)")]
    [InlineData("hashLog=18,hashLog=19", "hashLog is given twice")]
    public void Refuses_bad_text_naming_the_key_or_value(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<FormatException>(() => ZstdParameters.Parse(text)).Message);
    }
}
