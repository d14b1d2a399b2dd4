using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>WAL records are written from source-generated metadata: byte for byte what the shared options write, and read back.</summary>
public sealed class WalArchiveRecordJsonTests
{
    [Fact]
    [Trait("Tier", "Fast")]
    public void A_record_is_written_as_the_shared_options_write_it_and_reads_back_either_way()
    {
        var record = new WalArchiveRecord(WalArchiveRecord.CurrentFormat, "000000010000000000000007", 16 * 1024 * 1024, new string('a', 64),
            1234, new string('b', 64), "zstd", new DateTimeOffset(2026, 12, 1, 2, 3, 4, 567, TimeSpan.Zero));

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), record.ToJson());
        Assert.Equal(record, JsonSerializer.Deserialize<WalArchiveRecord>(record.ToJson(), Json.Options));
    }
}
