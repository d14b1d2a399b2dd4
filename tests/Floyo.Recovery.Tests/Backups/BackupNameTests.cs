using System.Text;
using System.Text.Json;
using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Tests.Backups;

/// <summary>Backup names and the backup-type enum's stored words, without a store.</summary>
[Trait("Tier", "Fast")]
public sealed class BackupNameTests
{
    private static readonly DateTimeOffset At = new(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));

    [Theory]
    [InlineData("shop", BackupType.Full, true, "shop_full_20300102_010405.dump.zst")]
    [InlineData("shop", BackupType.Incremental, false, "shop_incremental_20300102_010405.dump")]
    [InlineData("my db/ä", BackupType.Full, false, "my-db-ä_full_20300102_010405.dump")]
    [InlineData("???", BackupType.Full, false, "db_full_20300102_010405.dump")]
    public void A_name_is_the_file_safe_database_the_type_and_the_utc_time(string database, BackupType type, bool compressed, string expected)
    {
        Assert.Equal(expected, BackupName.For(database, type, At, compressed));
        Assert.Equal(expected + ".meta.json", BackupName.MetadataOf(expected));
    }

    [Fact]
    public void Metadata_stores_the_type_as_the_same_lower_case_word_as_before()
    {
        var data = Encoding.UTF8.GetBytes("PGDMP");
        foreach (var (type, word) in new[] { (BackupType.Full, "full"), (BackupType.Incremental, "incremental") })
        {
            var meta = FabricatedBackups.Metadata("shop", At, data, type);
            var json = meta.ToJson();
            using (var document = JsonDocument.Parse(json))
            {
                Assert.Equal(word, document.RootElement.GetProperty("type").GetString());
            }
            Assert.Equal(type, BackupMetadata.FromJson(json).Type);
            Assert.Equal(word, BackupName.TypeWord(type));
        }
    }

    [Fact]
    public void A_metadata_file_of_an_unknown_type_does_not_read()
    {
        var json = Encoding.UTF8.GetString(FabricatedBackups.Metadata("shop", At, [1]).ToJson());
        var unknown = json.Replace("\"type\": \"full\"", "\"type\": \"differential\"", StringComparison.Ordinal);
        Assert.NotEqual(json, unknown);
        Assert.Throws<JsonException>(() => BackupMetadata.FromJson(Encoding.UTF8.GetBytes(unknown)));
    }
}
