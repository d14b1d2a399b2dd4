using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;

namespace Floyo.Recovery.Tests.Storage;

/// <summary>BACKUP_STORE and BACKUP_SECONDARY_STORE read once into <see cref="StoreKind"/>; their words are unchanged.</summary>
[Trait("Tier", "Fast")]
public sealed class StoreKindTests
{
    [Theory]
    [InlineData("filesystem", StoreKind.Filesystem)]
    [InlineData("blob", StoreKind.Blob)]
    [InlineData("none", StoreKind.None)]
    [InlineData("", StoreKind.None)]
    public void The_settings_words_map_to_kinds_and_back(string word, StoreKind kind)
    {
        Assert.Equal(kind, StoreKinds.Parse(word));
        if (word.Length > 0)
        {
            Assert.Equal(word, StoreKinds.Word(kind));
        }
    }

    [Theory]
    [InlineData("Blob")]
    [InlineData("s3")]
    public void Any_other_word_is_not_a_store(string word) => Assert.Null(StoreKinds.Parse(word));

    [Fact]
    public void The_primary_store_is_never_none_and_a_wrong_word_names_the_setting()
    {
        Assert.Equal(StoreKind.Blob, new BackupOptions { Store = "blob" }.Kind);
        var e = Assert.Throws<ConfigurationException>(() => new BackupOptions { Store = "none" }.Kind);
        Assert.Equal("BACKUP_STORE must be 'filesystem' or 'blob', not 'none'", e.Message);
        Assert.Equal(StoreKind.None, new SecondaryStoreOptions().Settings().Kind);
        Assert.Null(new TertiaryStoreOptions { Store = "tape" }.Settings().Kind);
    }
}
