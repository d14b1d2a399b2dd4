using Floyo.Recovery.Compression;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Tests.Wal;

[Trait("Tier", "Fast")]
public sealed class BaseBackupCompressionSettingsTests
{
    [Fact]
    public void Defaults_to_level_3_apart_from_the_dumps_level()
    {
        using var engine = Engine.Create(new Dictionary<string, string?> { ["BACKUP_COMPRESSION_LEVEL"] = "5" });
        Assert.Equal(3, engine.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupCompressionLevel);
        Assert.Equal(5, engine.GetRequiredService<IOptions<Configuration.BackupOptions>>().Value.CompressionLevel);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("19")]
    public void Accepts_zstd_levels(string level)
    {
        using var engine = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_COMPRESSION_LEVEL"] = level });
        Assert.Equal(int.Parse(level, System.Globalization.CultureInfo.InvariantCulture), engine.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupCompressionLevel);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("20")]
    [InlineData("-3")]
    public void Refuses_a_level_outside_1_to_19_naming_the_setting(string level)
    {
        using var engine = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_COMPRESSION_LEVEL"] = level });
        var error = Assert.Throws<OptionsValidationException>(() => engine.GetRequiredService<IOptions<WalOptions>>().Value);
        Assert.Equal("BASE_BACKUP_COMPRESSION_LEVEL must be between 1 and 19", error.Message);
    }

    [Fact]
    public void Compresses_on_the_server_unless_told_client()
    {
        using var engine = Engine.Create(new Dictionary<string, string?>());
        Assert.Equal("server", engine.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupCompressionSide);
        using var client = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_COMPRESSION_SIDE"] = "client" });
        Assert.Equal("client", client.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupCompressionSide);
    }

    [Theory]
    [InlineData("Server")]
    [InlineData("both")]
    [InlineData("")]
    public void Refuses_a_side_other_than_server_or_client(string side)
    {
        using var engine = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_COMPRESSION_SIDE"] = side });
        var error = Assert.Throws<OptionsValidationException>(() => engine.GetRequiredService<IOptions<WalOptions>>().Value);
        Assert.Equal("BASE_BACKUP_COMPRESSION_SIDE must be 'server' or 'client'", error.Message);
    }

    [Fact]
    public void Tunes_zstd_by_default_and_takes_other_parameters_or_none()
    {
        using var engine = Engine.Create(new Dictionary<string, string?>());
        Assert.Equal(ZstdParameters.Parse("strategy=fast,windowLog=21,hashLog=18,minMatch=5"), engine.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupZstd());
        using var tuned = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_ZSTD_PARAMETERS"] = "strategy=dfast,chainLog=14" });
        Assert.Equal(new ZstdParameters { Strategy = 2, ChainLog = 14 }, tuned.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupZstd());
        using var level = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_ZSTD_PARAMETERS"] = "" });
        Assert.True(level.GetRequiredService<IOptions<WalOptions>>().Value.BaseBackupZstd().IsEmpty);
    }

    [Theory]
    [InlineData("windowLog=30", "BASE_BACKUP_ZSTD_PARAMETERS: windowLog=30 is out of range (allowed: 10-27)")]
    [InlineData("strategy=turbo", "BASE_BACKUP_ZSTD_PARAMETERS: strategy=turbo is out of range (allowed: fast, dfast, greedy, lazy, lazy2, btlazy2, btopt, btultra, btultra2 or 1-9)")]
    [InlineData("level=3", "BASE_BACKUP_ZSTD_PARAMETERS: unknown key 'level' (allowed: strategy, windowLog, hashLog, chainLog, searchLog, minMatch, targetLength)")]
    [InlineData("hashLog:18", "BASE_BACKUP_ZSTD_PARAMETERS: 'hashLog:18' is not key=value (e.g. strategy=fast,windowLog=21,hashLog=18,minMatch=5)")]
    public void Refuses_bad_zstd_parameters_at_start_up_naming_the_key_or_value(string text, string message)
    {
        using var engine = Engine.Create(new Dictionary<string, string?> { ["BASE_BACKUP_ZSTD_PARAMETERS"] = text });
        var error = Assert.Throws<OptionsValidationException>(() => engine.GetRequiredService<IOptions<WalOptions>>().Value);
        Assert.Equal(message, error.Message);
    }
}
