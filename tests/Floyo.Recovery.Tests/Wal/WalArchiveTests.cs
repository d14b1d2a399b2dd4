using System.Security.Cryptography;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>The archive_command / restore_command contract of floyo-dr wal push and fetch, on both store drivers.</summary>
public sealed class WalArchiveTests
{
    private const string Segment = "00000001000000000000002A";

    private static byte[] SegmentBytes(byte seed)
    {
        var bytes = new byte[16 * 1024 * 1024];
        RandomNumberGenerator.Fill(bytes.AsSpan(0, 64 * 1024));
        bytes[^1] = seed;
        return bytes;
    }

    [Fact]
    public async Task Filesystem_push_is_idempotent_refuses_other_content_and_fetch_is_quiet_when_missing_and_loud_when_damaged()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = Path.Combine(dir.Path, "store") };
        await AssertContractAsync(env, dir.Path);

        // Damage the stored copy: fetch must fail loudly and leave no file where PostgreSQL would read one.
        var stored = Path.Combine(dir.Path, "store", "wal", Segment + ".zst");
        File.SetUnixFileMode(stored, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(stored, bytes);
        var destination = Path.Combine(dir.Path, "damaged");
        var damaged = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, destination);
        // Not 1 ("not archived"): PostgreSQL would end recovery there and promote; above 125 it aborts.
        Assert.Equal(126, damaged.ExitCode);
        Assert.Contains($"{Segment} in ", damaged.StdErr);
        Assert.Contains("does not match its recorded SHA-256", damaged.StdErr);
        Assert.False(File.Exists(destination));
    }

    [Fact]
    public async Task Blob_push_and_fetch_keep_the_same_contract()
    {
        await using var container = await new BlobTestContainer(prefix: "wal").CreateAsync();
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = "blob",
            ["BACKUP_BLOB_CONNECTION_STRING"] = container.ConnectionString,
            ["BACKUP_BLOB_CONTAINER"] = container.Name,
            ["BACKUP_IMMUTABILITY_MODE"] = "off",
        };
        await AssertContractAsync(env, dir.Path);
    }

    private static async Task AssertContractAsync(Dictionary<string, string?> env, string work)
    {
        var source = Path.Combine(work, "pg_wal");
        Directory.CreateDirectory(source);
        var path = Path.Combine(source, Segment);
        var content = SegmentBytes(1);
        await File.WriteAllBytesAsync(path, content);

        var push = await FloyoDr.RunAsync(env, "wal", "push", path);
        Assert.True(push.ExitCode == 0, push.All);
        var repush = await FloyoDr.RunAsync(env, "wal", "push", path);
        Assert.True(repush.ExitCode == 0, repush.All);

        await File.WriteAllBytesAsync(path, SegmentBytes(2));
        var different = await FloyoDr.RunAsync(env, "wal", "push", path);
        Assert.Equal(1, different.ExitCode);
        Assert.Contains("with different content; refusing to overwrite it", different.StdErr);

        var destination = Path.Combine(work, "RECOVERYXLOG");
        var fetch = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, destination);
        Assert.True(fetch.ExitCode == 0, fetch.All);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(destination)));

        // PostgreSQL asks past the end of the archive as a matter of course: exit 1, nothing on stderr.
        var missing = await FloyoDr.RunAsync(env, "wal", "fetch", "00000001000000000000002B", Path.Combine(work, "next"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("", missing.StdErr.Trim());
        var history = await FloyoDr.RunAsync(env, "wal", "fetch", "00000002.history", Path.Combine(work, "history"));
        Assert.Equal(1, history.ExitCode);

        var notWal = await FloyoDr.RunAsync(env, "wal", "push", Path.Combine(work, "RECOVERYXLOG"));
        Assert.Equal((int)ErrorKind.Usage, notWal.ExitCode);
        Assert.Contains("is not a WAL file name", notWal.StdErr);
    }

    [Fact]
    public async Task A_push_killed_after_its_data_and_before_its_record_is_completed_by_an_identical_retry_and_refused_for_other_content()
    {
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = store };
        var path = Path.Combine(dir.Path, Segment);
        await File.WriteAllBytesAsync(path, SegmentBytes(7));
        Assert.Equal(0, (await FloyoDr.RunAsync(env, "wal", "push", path)).ExitCode);
        var record = Path.Combine(store, "wal", Segment + ".json");
        File.Delete(record);
        // A killed writer's half-written object: never visible, never in the way.
        File.WriteAllBytes(Path.Combine(store, ".partial", "999999.0123456789abcdef0123456789abcdef.part"), new byte[1234]);

        var fetchWithoutRecord = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, Path.Combine(dir.Path, "x"));
        Assert.Equal(1, fetchWithoutRecord.ExitCode);
        var retry = await FloyoDr.RunAsync(env, "wal", "push", path);
        Assert.True(retry.ExitCode == 0, retry.All);
        Assert.True(File.Exists(record));
        Assert.Equal(0, (await FloyoDr.RunAsync(env, "wal", "fetch", Segment, Path.Combine(dir.Path, "x"))).ExitCode);

        File.Delete(record);
        await File.WriteAllBytesAsync(path, SegmentBytes(8));
        var other = await FloyoDr.RunAsync(env, "wal", "push", path);
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("with different content; refusing to overwrite it", other.StdErr);
        Assert.False(File.Exists(record));
    }

    [Fact]
    public async Task A_base_backup_of_a_server_without_archiving_is_refused_in_one_line_and_nothing_is_stored()
    {
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var server = TestServers.Primary;
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = store, ["DATABASE_URL"] = TestServers.Url(server, "postgres") };

        var result = await FloyoDr.RunAsync(env, "backup", "--base");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: archive_mode is off on the server: a base backup is only recoverable with its WAL archived; set archive_mode = on and archive_command = 'floyo-dr wal push %p' first (or pull it: WAL_RECEIVE_SLOT and 'floyo-dr wal receive')", result.StdErr.Trim());
        Assert.False(Directory.Exists(Path.Combine(store, "base")));
        Assert.DoesNotContain(server.Password!, result.All);
    }
}
