using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>Base backup sidecars are written from source-generated metadata: byte for byte what the shared options write, and read back.</summary>
public sealed class BaseBackupMetadataJsonTests
{
    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData(true)]
    [InlineData(false)]
    public void A_sidecar_is_written_as_the_shared_options_write_it_and_reads_back_either_way(bool optionalValues)
    {
        var start = new DateTimeOffset(2026, 12, 1, 2, 3, 4, 567, TimeSpan.Zero);
        var metadata = new BaseBackupMetadata(BaseBackupMetadata.CurrentFormat, "base/base_20261201_020304.tar.zst", start, start.AddSeconds(5.25),
            "0/5000028", "0/5000100", 1, "000000010000000000000005", 16 * 1024 * 1024, "127.0.0.1:5432", "15.18",
            optionalValues ? "7400000000000000001" : null, 2_805_189, 23_503_872, "zstd", new string('c', 64), optionalValues, 1.234,
            start.AddDays(14), optionalValues ? "postgres" : null);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(metadata, Json.Options), metadata.ToJson());
        Assert.Equal(metadata, JsonSerializer.Deserialize<BaseBackupMetadata>(metadata.ToJson(), Json.Options));
    }
}
