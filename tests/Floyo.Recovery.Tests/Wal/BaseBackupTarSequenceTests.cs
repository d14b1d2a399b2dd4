using System.Formats.Tar;
using System.Text;
using Floyo.Recovery.Wal;
using ZstdSharp;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>A server-compressed base backup's layout: the server's tar (end blocks and record padding), then the manifest's tar in its own zstd frame.</summary>
[Trait("Tier", "Fast")]
public sealed class BaseBackupTarSequenceTests
{
    private static byte[] ServerTar()
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "backup_label") { DataStream = new MemoryStream("START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"u8.ToArray()) });
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "base/1/1259") { DataStream = new MemoryStream(new byte[8192 * 3]) });
        }
        tar.Write(new byte[10240 - (int)(tar.Length % 10240)]);
        return tar.ToArray();
    }

    private static List<string> ReadAll(Stream tars)
    {
        var names = new List<string>();
        for (Stream? archive = tars; archive is not null; archive = BaseBackupTarSequence.NextArchiveAsync(tars, CancellationToken.None).GetAwaiter().GetResult())
        {
            using var reader = new TarReader(archive, leaveOpen: true);
            while (reader.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
                if (entry.Name == "backup_manifest")
                {
                    Assert.Equal("{\"PostgreSQL-Backup-Manifest-Version\": 1}\n", new StreamReader(entry.DataStream!).ReadToEnd());
                }
            }
        }
        return names;
    }

    [Fact]
    public void Reads_the_manifest_appended_after_the_servers_archive_as_a_second_zstd_frame()
    {
        using var compressor = new Compressor(3);
        var stored = compressor.Wrap(ServerTar()).ToArray()
            .Concat(ServerCompressedBaseBackup.ManifestArchive(Encoding.UTF8.GetBytes("{\"PostgreSQL-Backup-Manifest-Version\": 1}\n"))).ToArray();
        using var tars = new DecompressionStream(new MemoryStream(stored));
        Assert.Equal(["backup_label", "base/1/1259", "backup_manifest"], ReadAll(tars));
    }

    [Fact]
    public void A_single_tar_as_pg_basebackup_writes_it_to_stdout_reads_as_before()
    {
        Assert.Equal(["backup_label", "base/1/1259"], ReadAll(new MemoryStream(ServerTar())));
    }

    [Fact]
    public void Refuses_a_stream_that_ends_inside_a_block_after_the_archive()
    {
        var damaged = ServerTar().Concat(new byte[] { 1, 2, 3 }).ToArray();
        Assert.Throws<RecoveryException>(() => ReadAll(new MemoryStream(damaged)));
    }
}

[Trait("Tier", "Fast")]
public sealed class BaseBackupScratchTests
{
    [Fact]
    public void Removes_a_directory_whose_owner_is_gone_and_keeps_a_living_ones_and_its_own_when_done()
    {
        var parent = Directory.CreateTempSubdirectory("floyo-scratch-test-").FullName;
        try
        {
            var abandoned = Directory.CreateDirectory(Path.Combine(parent, "floyo-dr-basebackup-dead")).FullName;
            File.WriteAllText(Path.Combine(abandoned, "owner.pid"), "4194303"); // above any pid this kernel hands out by default
            var unowned = Directory.CreateDirectory(Path.Combine(parent, "floyo-dr-basebackup-nopid")).FullName;
            var living = Directory.CreateDirectory(Path.Combine(parent, "floyo-dr-basebackup-alive")).FullName;
            File.WriteAllText(Path.Combine(living, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var unrelated = Directory.CreateDirectory(Path.Combine(parent, "something-else")).FullName;

            string created;
            using (var scratch = BaseBackupScratch.Create(parent))
            {
                created = scratch.Path;
                Assert.True(Directory.Exists(created));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(created));
                Assert.False(Directory.Exists(abandoned));
                Assert.False(Directory.Exists(unowned));
                Assert.True(Directory.Exists(living));
                Assert.True(Directory.Exists(unrelated));
            }
            Assert.False(Directory.Exists(created));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
