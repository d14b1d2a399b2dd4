using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using ZstdSharp;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// Both places a base backup can be compressed, on a real PostgreSQL 15 cluster with real pg_basebackup: the
/// stored object holds backup_label, the data directory and backup_manifest, and agrees with its metadata.
/// </summary>
public sealed class BaseBackupCompressionSideTests
{
    [Theory]
    [InlineData("server")]
    [InlineData("client")]
    public async Task Stores_the_label_the_files_and_the_manifest_and_records_their_wal_range(string side)
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await cluster.ExecuteAsync("CREATE TABLE filler AS SELECT g AS id, md5(g::text) AS pad FROM generate_series(1, 200000) g");
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = store, ["DATABASE_URL"] = cluster.Url, ["BASE_BACKUP_COMPRESSION_SIDE"] = side };

        var backup = await FloyoDr.RunAsync(env, "backup", "--base");
        Assert.True(backup.ExitCode == 0, backup.All);

        var stored = Assert.Single(Directory.GetFiles(Path.Combine(store, "base"), "*.tar.zst"));
        using var meta = JsonDocument.Parse(await File.ReadAllBytesAsync(stored + ".meta.json"));
        var bytes = await File.ReadAllBytesAsync(stored);
        Assert.Equal(meta.RootElement.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(bytes.LongLength, meta.RootElement.GetProperty("sizeBytes").GetInt64());
        Assert.True(meta.RootElement.GetProperty("hasManifest").GetBoolean());

        // The whole tar stream, as restore reads it (tars in turn), and the walker over it in odd chunks.
        using var tarStream = new MemoryStream();
        await using (var decompress = new DecompressionStream(new MemoryStream(bytes)))
        {
            await decompress.CopyToAsync(tarStream);
        }
        var tars = tarStream.ToArray();
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new List<string>();
        var input = new MemoryStream(tars);
        for (Stream? archive = input; archive is not null; archive = await BaseBackupTarSequence.NextArchiveAsync(input, CancellationToken.None))
        {
            await using var reader = new TarReader(archive, leaveOpen: true);
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                names.Add(entry.Name);
                if (entry.Name is "backup_label" or "backup_manifest")
                {
                    files[entry.Name] = await new StreamReader(entry.DataStream!).ReadToEndAsync();
                }
            }
        }
        Assert.Equal("backup_label", names[0]);
        Assert.Contains("global/pg_control", names);
        Assert.Contains("PG_VERSION", names);
        Assert.Equal("backup_manifest", names[^1]);
        var label = BaseBackupRunner.ParseLabel(files["backup_label"]);
        Assert.Equal(label.StartLsn, meta.RootElement.GetProperty("startLsn").GetString());
        Assert.Equal(BaseBackupRunner.StopLsnOf(files["backup_manifest"]), meta.RootElement.GetProperty("stopLsn").GetString());
        Assert.Equal((int)label.Timeline, meta.RootElement.GetProperty("timeline").GetInt32());

        if (side == "client")
        {
            // Real pg_basebackup output for the tar walker: cut at odd places, it keeps what TarReader reads.
            var walker = new BaseBackupTarWalker(new HashSet<string>(StringComparer.Ordinal) { "backup_label", "backup_manifest" });
            var random = new Random(5);
            for (var at = 0; at < tars.Length;)
            {
                var length = Math.Min(random.Next(1, 200_000), tars.Length - at);
                walker.Append(tars.AsSpan(at, length));
                at += length;
            }
            Assert.Equal(files, walker.Files);
        }
    }
}
