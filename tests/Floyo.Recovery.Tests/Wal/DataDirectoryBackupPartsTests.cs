using System.Buffers.Binary;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// The parts of a direct base backup (BASE_BACKUP_DATA_DIR) that need no server: what is copied of a data directory
/// (pg_basebackup's exclusions), the manifest's conventions (checked against values pg_basebackup wrote), the tar
/// stream, and the refusals that come from the directory alone.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class DataDirectoryBackupPartsTests
{
    [Fact]
    public void Lists_what_pg_basebackup_sends_with_pg_control_last()
    {
        using var dir = new TempDirectory();
        var root = dir.Path;
        string[] files =
        [
            "PG_VERSION", "postgresql.conf", "postgresql.auto.conf", "postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_manifest",
            "postgresql.auto.conf.tmp", "current_logfiles.tmp", "current_logfiles",
            "global/1260", "global/pg_internal.init", "global/pg_internal.init.123", "global/pg_control", "global/pg_filenode.map",
            "base/5/16384", "base/5/16384_fsm", "base/5/16384.1", "base/5/16390", "base/5/16390_vm", "base/5/16390.2", "base/5/16390_init", "base/5/t3_16400", "base/5/t3_16400_fsm",
            "base/5/t3_16400.1", "base/5/pg_internal.init", "base/5/PG_VERSION", "base/5/pgsql_tmp/pgsql_tmp123.0",
            "pg_wal/000000010000000000000001", "pg_wal/archive_status/000000010000000000000001.done",
            "pg_stat_tmp/global.stat", "pg_replslot/slot/state", "pg_dynshmem/mmap.1", "pg_notify/0000", "pg_serial/0000", "pg_snapshots/0000-1",
            "pg_subtrans/0000", "pg_xact/0000", "pg_multixact/offsets/0000", "pg_logical/replorigin_checkpoint",
        ];
        foreach (var file in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, file))!);
            File.WriteAllText(Path.Combine(root, file), file);
        }
        Directory.CreateDirectory(Path.Combine(root, "pg_tblspc"));
        File.CreateSymbolicLink(Path.Combine(root, "linked.conf"), "/etc/hostname");
        // The server's socket, when unix_socket_directories is the data directory: .NET shows it as a file.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(root, ".s.PGSQL.5432")));
        File.WriteAllText(Path.Combine(root, ".s.PGSQL.5432.lock"), "lock");
        var skipped = new List<string>();

        var entries = DataDirectoryListing.List(root, skipped.Add);

        var names = entries.Select(e => e.RelativePath).ToList();
        Assert.Equal("global/pg_control", names[^1]);
        Assert.Equal(1, names.Count(n => n == "global/pg_control"));
        string[] copied =
        [
            "PG_VERSION", "postgresql.conf", "postgresql.auto.conf", "current_logfiles", "global/1260", "global/pg_filenode.map",
            "base/5/16384", "base/5/16384_fsm", "base/5/16384.1", "base/5/16390_init", "base/5/PG_VERSION",
            "pg_xact/0000", "pg_multixact/offsets/0000", "pg_logical/replorigin_checkpoint",
        ];
        Assert.All(copied, name => Assert.Contains(name, names));
        string[] left =
        [
            "postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_manifest", "postgresql.auto.conf.tmp", "current_logfiles.tmp",
            "global/pg_internal.init", "global/pg_internal.init.123", "base/5/pg_internal.init",
            // The unlogged relation 16390 (it has an _init fork): only the init fork is kept. Temporary relations and files: none.
            "base/5/16390", "base/5/16390_vm", "base/5/16390.2", "base/5/t3_16400", "base/5/t3_16400_fsm", "base/5/t3_16400.1",
            "base/5/pgsql_tmp", "base/5/pgsql_tmp/pgsql_tmp123.0",
            "pg_wal/000000010000000000000001", "pg_wal/archive_status/000000010000000000000001.done",
            "pg_stat_tmp/global.stat", "pg_replslot/slot", "pg_replslot/slot/state", "pg_dynshmem/mmap.1", "pg_notify/0000", "pg_serial/0000",
            "pg_snapshots/0000-1", "pg_subtrans/0000", "linked.conf",
        ];
        Assert.All(left, name => Assert.DoesNotContain(name, names));
        // Directories whose contents are rebuilt at start-up are kept, empty, as pg_wal and its archive_status.
        string[] emptyDirectories = ["pg_wal", "pg_wal/archive_status", "pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans", "pg_tblspc"];
        Assert.All(emptyDirectories, name => Assert.True(entries.Single(e => e.RelativePath == name).IsDirectory, name));
        Assert.Equal([".s.PGSQL.5432", "linked.conf"], skipped);
        Assert.Contains(".s.PGSQL.5432.lock", names);
        // Parents come before their children, so a restore can create them in turn.
        Assert.True(names.IndexOf("base/5") < names.IndexOf("base/5/16384"));
    }

    [Theory]
    [InlineData("16384", true, "")]
    [InlineData("16384_fsm", true, "_fsm")]
    [InlineData("16384_vm.3", true, "_vm")]
    [InlineData("16384_init", true, "_init")]
    [InlineData("16384.12", true, "")]
    [InlineData("16384_foo", false, "")]
    [InlineData("16384.", false, "")]
    [InlineData("12345678901", false, "")]
    [InlineData("PG_VERSION", false, "")]
    public void Reads_relation_file_names_as_postgresql_does(string name, bool relation, string fork)
    {
        Assert.Equal(relation, DataDirectoryListing.TryParseRelationFile(name, out _, out var parsedFork));
        if (relation)
        {
            Assert.Equal(fork, parsedFork);
        }
    }

    [Theory]
    [InlineData("t3_16384", true)]
    [InlineData("t12_16384_fsm.1", true)]
    [InlineData("t_16384", false)]
    [InlineData("t3_", false)]
    [InlineData("t3_16384_x", false)]
    [InlineData("16384", false)]
    public void Recognises_temporary_relations(string name, bool temporary) =>
        Assert.Equal(temporary, DataDirectoryListing.LooksLikeTemporaryRelation(name));

    [Fact]
    public void Checksums_files_as_pg_basebackup_s_manifest_does()
    {
        // Values from a manifest pg_basebackup (15) wrote: PG_VERSION holds "15\n"; an empty tablespace_map.
        Assert.Equal("8a744722", BackupManifestBuilder.ChecksumHex(Crc32C.Finish(Crc32C.Append(Crc32C.Initial, "15\n"u8))));
        Assert.Equal("00000000", BackupManifestBuilder.ChecksumHex(Crc32C.Finish(Crc32C.Append(Crc32C.Initial, []))));
        // The CRC-32C check value (of "123456789", 0xE3069283), written as its little-endian bytes; a long input crosses the 8-byte steps.
        Assert.Equal("839206e3", BackupManifestBuilder.ChecksumHex(Crc32C.Finish(Crc32C.Append(Crc32C.Initial, "123456789"u8))));
        var data = RandomNumberGenerator.GetBytes(10_007);
        var whole = Crc32C.Append(Crc32C.Initial, data);
        var parts = Crc32C.Append(Crc32C.Append(Crc32C.Initial, data.AsSpan(0, 4099)), data.AsSpan(4099));
        Assert.Equal(whole, parts);
    }

    [Fact]
    public void Writes_the_manifest_in_the_server_s_layout_with_its_own_sha256()
    {
        var builder = new BackupManifestBuilder();
        builder.AddFile("PG_VERSION", 3, new DateTimeOffset(2026, 12, 1, 4, 46, 34, TimeSpan.Zero), 0x2247748a);
        builder.AddFile("base/5/we\"ird", 8192, new DateTimeOffset(2026, 12, 1, 4, 47, 15, TimeSpan.Zero), 0);

        var text = Encoding.UTF8.GetString(builder.Build(1, "0/2000028", "0/2000138"));

        Assert.Equal(
            "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n" +
            "{ \"Path\": \"PG_VERSION\", \"Size\": 3, \"Last-Modified\": \"2026-12-01 04:46:34 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"8a744722\" },\n" +
            "{ \"Path\": \"base/5/we\\\"ird\", \"Size\": 8192, \"Last-Modified\": \"2026-12-01 04:47:15 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"00000000\" }\n" +
            "],\n\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000138\" }\n],\n",
            text[..text.IndexOf("\"Manifest-Checksum\"", StringComparison.Ordinal)]);
        var checksumAt = text.IndexOf("\"Manifest-Checksum\"", StringComparison.Ordinal);
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text[..checksumAt])));
        Assert.Equal($"\"Manifest-Checksum\": \"{expected}\"}}\n", text[checksumAt..]);
        using var json = JsonDocument.Parse(text);
        Assert.Equal("0/2000138", BaseBackupRunner.StopLsnOf(text));
    }

    [Fact]
    public async Task Streams_a_tar_that_restore_reads_and_leaves_out_a_file_dropped_after_listing()
    {
        using var dir = new TempDirectory();
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 77);
        Directory.CreateDirectory(Path.Combine(dir.Path, "base", "5"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "global"));
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "base", "5", "16384"), data);
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "base", "5", "16390"), "dropped");
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "global", "pg_control"), new byte[8192]);
        var entries = DataDirectoryListing.List(dir.Path);
        File.Delete(Path.Combine(dir.Path, "base", "5", "16390"));
        var chunks = Channel.CreateUnbounded<(byte[] Buffer, int Length)>();
        var manifest = new BackupManifestBuilder();
        // Small chunks, so files and headers straddle them.
        var tar = new DataDirectoryTarWriter(chunks.Writer, manifest, chunkSize: 64 * 1024 + 3);

        foreach (var entry in entries)
        {
            await tar.AddAsync(entry, CancellationToken.None);
        }
        await tar.AddContentAsync("backup_label", "START WAL LOCATION: 0/2000028\n"u8.ToArray(), DateTimeOffset.UtcNow, CancellationToken.None);
        await tar.FinishAsync(CancellationToken.None);

        using var stream = new MemoryStream();
        await foreach (var (buffer, length) in chunks.Reader.ReadAllAsync())
        {
            stream.Write(buffer, 0, length);
        }
        Assert.Equal(stream.Length, tar.Bytes);
        Assert.Equal(0, stream.Length % 512);
        stream.Position = 0;
        var read = new Dictionary<string, byte[]>();
        await using (var reader = new TarReader(stream))
        {
            while (await reader.GetNextEntryAsync(copyData: true) is { } entry)
            {
                if (entry.EntryType == TarEntryType.RegularFile)
                {
                    using var content = new MemoryStream();
                    await entry.DataStream!.CopyToAsync(content);
                    read[entry.Name] = content.ToArray();
                }
            }
        }
        Assert.Equal(["base/5/16384", "global/pg_control", "backup_label"], read.Keys);
        Assert.Equal(data, read["base/5/16384"]);
        var text = Encoding.UTF8.GetString(manifest.Build(1, "0/2000028", "0/2000100"));
        Assert.Contains($"\"Path\": \"base/5/16384\", \"Size\": {data.Length}", text);
        Assert.Contains(BackupManifestBuilder.ChecksumHex(Crc32C.Finish(Crc32C.Append(Crc32C.Initial, data))), text);
        Assert.DoesNotContain("16390", text);
        Assert.Equal(3, manifest.Count);
    }

    [Fact]
    public async Task Describes_files_of_8_GiB_and_more_in_base_256_as_pg_basebackup_does()
    {
        var size = (9L << 30) + 5;
        // Not seekable, as restore's decompressed stream: TarReader reads the header without jumping past the (absent) data.
        using var tar = new ForwardOnly(DataDirectoryTarWriter.Header("log/postgresql.log", (byte)'0', size, UnixFileMode.UserRead, DateTimeOffset.UtcNow));
        await using var reader = new TarReader(tar);

        var entry = await reader.GetNextEntryAsync(copyData: false);

        Assert.Equal("log/postgresql.log", entry!.Name);
        Assert.Equal(size, entry.Length);
    }

    [Fact]
    public void Refuses_a_data_directory_with_extra_tablespaces_naming_the_setting()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "pg_tblspc"));
        DataDirectoryIdentity.RefuseTablespaces(dir.Path);
        File.CreateSymbolicLink(Path.Combine(dir.Path, "pg_tblspc", "16500"), dir.Path);

        var refused = Assert.Throws<ConfigurationException>(() => DataDirectoryIdentity.RefuseTablespaces(dir.Path));

        Assert.Contains("16500", refused.Message);
        Assert.Contains("unset BASE_BACKUP_DATA_DIR", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void Reads_postmaster_pid_and_pg_control_and_refuses_what_is_not_a_running_server_s()
    {
        using var dir = new TempDirectory();
        Assert.Throws<RefusedException>(() => DataDirectoryIdentity.ReadPostmasterPid(dir.Path));
        Assert.Throws<RefusedException>(() => DataDirectoryIdentity.ReadControlFile(dir.Path));
        File.WriteAllText(Path.Combine(dir.Path, "postmaster.pid"), "4242\n/var/lib/postgresql/15/main\n1796100395\n5432\n/run/postgresql\n*\n  1234  5678\nready\n");
        Assert.Equal(new PostmasterPid(1796100395, 5432), DataDirectoryIdentity.ReadPostmasterPid(dir.Path));
        File.WriteAllText(Path.Combine(dir.Path, "postmaster.pid"), "4242\n/var/lib/postgresql/15/main\n");
        Assert.Throws<RefusedException>(() => DataDirectoryIdentity.ReadPostmasterPid(dir.Path));

        Directory.CreateDirectory(Path.Combine(dir.Path, "global"));
        var control = new byte[8192];
        BinaryPrimitives.WriteUInt64LittleEndian(control, 7714192453420733123);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(16), 6);
        BinaryPrimitives.WriteUInt64LittleEndian(control.AsSpan(40), 0x2_0000_0028);
        File.WriteAllBytes(Path.Combine(dir.Path, "global", "pg_control"), control);
        Assert.Equal((7714192453420733123UL, 6, 0x2_0000_0028UL), DataDirectoryIdentity.ReadControlFile(dir.Path));
        // The checkpoint pg_backup_start made must be in the directory: an older one means a copy.
        DataDirectoryIdentity.EnsureHoldsCheckpoint(dir.Path, "2/28");
        var copy = Assert.Throws<RefusedException>(() => DataDirectoryIdentity.EnsureHoldsCheckpoint(dir.Path, "2/1000028"));
        Assert.Contains("REDO 2/28", copy.Message);
    }

    [Fact]
    public async Task Waits_for_the_last_segment_as_pg_backup_stop_does_and_gives_up_in_one_line()
    {
        using var dir = new TempDirectory();
        var status = Path.Combine(dir.Path, "pg_wal", "archive_status");
        Directory.CreateDirectory(status);
        const string segment = "000000010000000000000007";
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "pg_wal", segment), "");
        await File.WriteAllTextAsync(Path.Combine(status, segment + ".ready"), "");
        Assert.False(DataDirectoryArchiveWait.IsArchived(dir.Path, segment));

        var waiting = DataDirectoryArchiveWait.WaitAsync(dir.Path, segment, TimeSpan.FromSeconds(30), CancellationToken.None);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        // The archiver renames .ready to .done once archive_command succeeded.
        File.Move(Path.Combine(status, segment + ".ready"), Path.Combine(status, segment + ".done"));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        // Neither status file and the segment gone: recycled after archiving. Neither and the segment there: not yet.
        File.Delete(Path.Combine(status, segment + ".done"));
        Assert.False(DataDirectoryArchiveWait.IsArchived(dir.Path, segment));
        File.Delete(Path.Combine(dir.Path, "pg_wal", segment));
        Assert.True(DataDirectoryArchiveWait.IsArchived(dir.Path, segment));

        await File.WriteAllTextAsync(Path.Combine(status, "000000010000000000000008.ready"), "");
        var stuck = await Assert.ThrowsAsync<UnavailableException>(() => DataDirectoryArchiveWait.WaitAsync(dir.Path, "000000010000000000000008", TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Contains("000000010000000000000008 was not archived", stuck.Message);
    }

    [Theory]
    [InlineData("relative/data", false)]
    [InlineData("/var/lib/postgresql/15/main", true)]
    [InlineData("", true)]
    public void Validates_the_setting_at_start_up(string value, bool valid)
    {
        var result = new WalOptionsValidator().Validate(null, new WalOptions { BaseBackupDataDirectory = value });
        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("BASE_BACKUP_DATA_DIR must be an absolute path", result.FailureMessage);
        }
    }
}

/// <summary>A stream over bytes that can only be read forward.</summary>
internal sealed class ForwardOnly(byte[] bytes) : Stream
{
    private readonly MemoryStream _inner = new(bytes);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
