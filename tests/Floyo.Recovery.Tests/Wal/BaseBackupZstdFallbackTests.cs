using System.Security.Cryptography;
using System.Text.Json;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// BASE_BACKUP_COMPRESSION_SIDE=server (the default) on a server built without zstd: the refusal is recognised and
/// the backup is taken compressed client-side, once, with a warning; any other failure still fails. The server is a
/// real PostgreSQL 15 behind <see cref="ZstdRefusingProxy"/>, which answers the zstd request exactly as a build
/// without zstd does (this machine's PostgreSQL has zstd, and no other build is installed).
/// </summary>
public sealed class BaseBackupZstdFallbackTests
{
    [Theory]
    [Trait("Tier", "Fast")]
    // The server's option check, as pg_basebackup prints it.
    [InlineData("pg_basebackup: error: could not initiate base backup: ERROR:  invalid compression specification: this build does not support compression with ZSTD", true)]
    // The server's zstd sink, and pg_basebackup's own build.
    [InlineData("pg_basebackup: error: could not initiate base backup: ERROR:  zstd compression is not supported by this build", true)]
    [InlineData("pg_basebackup: error: invalid compression specification: this build does not support compression with ZSTD", true)]
    [InlineData("pg_basebackup: error: server does not support server-side compression", true)]
    // Anything else is a real failure.
    [InlineData("pg_basebackup: error: could not initiate base backup: ERROR:  invalid compression specification: compression algorithm \"zstd\" expects a compression level between -131072 and 22 (default at 3)", false)]
    [InlineData("pg_basebackup: error: could not initiate base backup: ERROR:  this build does not support compression with LZ4", false)]
    [InlineData("pg_basebackup: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"floyo\"", false)]
    [InlineData("pg_basebackup: error: could not get COPY data stream: ERROR:  could not read file \"base/1/1249\": Permission denied", false)]
    [InlineData("", false)]
    public void Only_a_missing_zstd_is_taken_for_a_refusal_to_compress_on_the_server(string stderr, bool refusal) =>
        Assert.Equal(refusal, ServerCompressedBaseBackup.RefusesServerZstd(stderr));

    [Fact]
    public async Task A_server_without_zstd_gets_a_client_compressed_base_backup_with_a_warning_and_any_other_refusal_still_fails()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        using var dir = new TempDirectory();

        // Another error from the server: no fallback, nothing stored.
        var otherStore = Path.Combine(dir.Path, "other");
        await using (var other = new ZstdRefusingProxy(cluster.Port, "could not read file \"base/1/1249\": Permission denied"))
        {
            var failed = await FloyoDr.RunAsync(Env(cluster.UrlOn(other.Port), otherStore), "backup", "--base");
            Assert.True(failed.ExitCode != 0, failed.All);
            Assert.Contains("pg_basebackup failed", failed.StdErr, StringComparison.Ordinal);
            Assert.Contains("Permission denied", failed.StdErr, StringComparison.Ordinal);
            Assert.Equal((1, 0), (other.Refused, other.Forwarded));
            Assert.Empty(Directory.Exists(Path.Combine(otherStore, "base")) ? Directory.GetFiles(Path.Combine(otherStore, "base")) : Array.Empty<string>());
        }

        // Into the cluster's own store, as its user (the base backup waits for its last segment to be archived there).
        var store = cluster.Store;
        await using var proxy = new ZstdRefusingProxy(cluster.Port);
        var backup = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.UrlOn(proxy.Port), ["BASE_BACKUP_COMPRESSION_SIDE"] = "server" }, "backup", "--base");

        Assert.True(backup.ExitCode == 0, backup.All);
        // Refused once on the server, then taken once with the server sending a plain tar.
        Assert.Equal((1, 1), (proxy.Refused, proxy.Forwarded));
        Assert.Contains("Base backup compressed by floyo-dr instead of the server (BASE_BACKUP_COMPRESSION_SIDE=server)", backup.All, StringComparison.Ordinal);
        Assert.Contains(ZstdRefusingProxy.Refusal, backup.All, StringComparison.Ordinal);
        var stored = Assert.Single(Directory.GetFiles(Path.Combine(store, "base"), "*.tar.zst"));
        using var meta = JsonDocument.Parse(await File.ReadAllBytesAsync(stored + ".meta.json"));
        Assert.Equal(meta.RootElement.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(stored))));
        Assert.True(meta.RootElement.GetProperty("hasManifest").GetBoolean());
        Assert.StartsWith("0/", meta.RootElement.GetProperty("startLsn").GetString(), StringComparison.Ordinal);

        // And it is a base backup PITR can use: the archive is continuous from it.
        await cluster.SwitchAndWaitForArchiveAsync();
        var verify = await cluster.FloyoDrAsPostgresAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = cluster.Url }, "wal", "verify");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.StartsWith("continuous: ", verify.StdOut, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Env(string url, string store) => new()
    {
        ["DATABASE_URL"] = url,
        ["BACKUP_STORE"] = "filesystem",
        ["BACKUP_DIR"] = store,
        ["BASE_BACKUP_COMPRESSION_SIDE"] = "server",
    };
}
