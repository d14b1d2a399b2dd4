using System.Formats.Tar;
using System.Text;
using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>The tar-header walker over pg_basebackup's chunks: a tar laid out as pg_basebackup -Ft -D - writes it.</summary>
[Trait("Tier", "Fast")]
public sealed class BaseBackupTarWalkerTests
{
    private static readonly HashSet<string> Keep = new(StringComparer.Ordinal) { "backup_label", "backup_manifest" };

    private const string Label = """
        START WAL LOCATION: 0/65000028 (file 000000010000000000000065)
        CHECKPOINT LOCATION: 0/65000060
        BACKUP METHOD: streamed
        BACKUP FROM: primary
        START TIME: 2026-12-01 02:14:35 UTC
        LABEL: floyo-dr base/base_20261201_021435.tar.zst
        START TIMELINE: 1

        """;

    private static readonly string Manifest =
        "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n" +
        string.Join(",\n", Enumerable.Range(0, 400).Select(i => $"{{ \"Path\": \"base/5/{16384 + i}\", \"Size\": 8192, \"Last-Modified\": \"2026-12-01 02:14:30 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"{i:x8}\" }}")) +
        "],\n\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/65000028\", \"End-LSN\": \"0/65000138\" }\n],\n\"Manifest-Checksum\": \"00\"}\n";

    /// <summary>backup_label first, then the data directory (directories, odd-sized and page-sized files, a symlink), the manifest last, then the end blocks.</summary>
    private static byte[] PgBaseBackupTar(string label = Label, string? manifest = null)
    {
        var random = new Random(13);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            void File(string name, byte[] data)
            {
                var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
                writer.WriteEntry(entry);
            }
            byte[] Bytes(int n) { var b = new byte[n]; random.NextBytes(b); return b; }
            File("backup_label", Encoding.UTF8.GetBytes(label));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "base"));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "base/5"));
            File("PG_VERSION", "15\n"u8.ToArray());
            File("base/5/1259", Bytes(8192 * 13));
            File("base/5/1259_fsm", Bytes(24576));
            File("base/5/pg_filenode.map", Bytes(512));
            File("base/5/backup_label", Bytes(77)); // same name, deeper: not the label
            File("global/pg_control", Bytes(8192));
            File("postgresql.auto.conf", Bytes(301));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "pg_wal"));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "pg_tblspc/16400") { LinkName = "/srv/ts" });
            File("current_logfiles", []);
            File(new string('d', 90) + "/" + new string('f', 60), Bytes(1000)); // a path that needs ustar's prefix field
            File("backup_manifest", Encoding.UTF8.GetBytes(manifest ?? Manifest));
        }
        // TarWriter writes the two end blocks; pg_basebackup pads the archive to whole records too.
        tar.Write(new byte[10240 - (int)(tar.Length % 10240)]);
        return tar.ToArray();
    }

    private static BaseBackupTarWalker Walk(byte[] tar, Func<int, int> chunkAt)
    {
        var walker = new BaseBackupTarWalker(Keep);
        var position = 0;
        var i = 0;
        while (position < tar.Length)
        {
            var length = Math.Min(Math.Max(1, chunkAt(i++)), tar.Length - position);
            walker.Append(tar.AsSpan(position, length));
            position += length;
        }
        return walker;
    }

    [Fact]
    public void Keeps_the_label_and_the_manifest_from_one_chunk()
    {
        var walker = Walk(PgBaseBackupTar(), _ => int.MaxValue);
        Assert.Equal(Label, walker.Files["backup_label"]);
        Assert.Equal(Manifest, walker.Files["backup_manifest"]);
        Assert.Equal(2, walker.Files.Count);
        Assert.True(walker.Ended);
        Assert.False(walker.Malformed);
        Assert.Equal("0/65000138", BaseBackupRunner.StopLsnOf(walker.Files["backup_manifest"]));
        Assert.Equal("0/65000028", BaseBackupRunner.ParseLabel(walker.Files["backup_label"]).StartLsn);
    }

    [Fact]
    public void Keeps_a_backup_label_split_at_every_byte_of_its_header_and_data()
    {
        var tar = PgBaseBackupTar();
        // backup_label's header is bytes 0-511 and its data 512 on: split once at every offset through both, then the rest in 1 MiB chunks.
        for (var split = 1; split < 512 + Label.Length + 8; split++)
        {
            var at = split;
            var walker = Walk(tar, i => i == 0 ? at : 1 << 20);
            Assert.True(Label == walker.Files.GetValueOrDefault("backup_label"), $"split at {split}");
            Assert.Equal(Manifest, walker.Files["backup_manifest"]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(511)]
    [InlineData(513)]
    [InlineData(4096)]
    [InlineData(65536)]
    public void Keeps_both_files_whatever_the_chunk_size(int size)
    {
        var walker = Walk(PgBaseBackupTar(), _ => size);
        Assert.Equal(Label, walker.Files["backup_label"]);
        Assert.Equal(Manifest, walker.Files["backup_manifest"]);
        Assert.True(walker.Ended);
    }

    [Fact]
    public void Keeps_both_files_with_random_chunks()
    {
        var random = new Random(42);
        var tar = PgBaseBackupTar();
        for (var round = 0; round < 50; round++)
        {
            var walker = Walk(tar, _ => random.Next(1, 3000));
            Assert.Equal(Label, walker.Files["backup_label"]);
            Assert.Equal(Manifest, walker.Files["backup_manifest"]);
        }
    }

    [Fact]
    public void Stops_at_a_header_whose_checksum_is_wrong()
    {
        var tar = PgBaseBackupTar();
        tar[600 + 512 * ((Label.Length + 511) / 512)] ^= 0x55; // inside the second header ("base/")
        var walker = Walk(tar, _ => 4096);
        Assert.True(walker.Malformed);
        Assert.Equal(Label, walker.Files["backup_label"]);
        Assert.False(walker.Files.ContainsKey("backup_manifest"));
    }

    [Fact]
    public void Finds_nothing_in_what_is_not_a_tar()
    {
        var text = Encoding.UTF8.GetBytes("pg_basebackup: error: could not connect to server\n" + new string('x', 2000));
        var walker = Walk(text, _ => 100);
        Assert.True(walker.Malformed);
        Assert.Empty(walker.Files);
    }

    [Fact]
    public void Refuses_a_kept_file_over_its_limit()
    {
        var walker = new BaseBackupTarWalker(Keep, maxKeptBytes: 100);
        var error = Assert.Throws<RecoveryException>(() => walker.Append(PgBaseBackupTar()));
        Assert.Contains("backup_label", error.Message);
    }

    [Fact]
    public void Reads_the_same_files_as_TarReader()
    {
        var tar = PgBaseBackupTar();
        var expected = new Dictionary<string, string>();
        using (var reader = new TarReader(new MemoryStream(tar)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.Name is "backup_label" or "backup_manifest" && entry.DataStream is { } data)
                {
                    expected[entry.Name] = new StreamReader(data).ReadToEnd();
                }
            }
        }
        Assert.Equal(expected, Walk(tar, _ => 1000).Files);
    }
}
