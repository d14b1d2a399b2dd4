using System.Security.Cryptography;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>wal fetch --prefetch: one floyo-dr start fetches the segments recovery asks for next, checked like any fetch.</summary>
public sealed class WalPrefetchTests
{
    [Fact]
    public async Task Fetch_spools_the_next_segments_up_to_the_end_of_the_archive_and_never_a_damaged_one()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = Path.Combine(dir.Path, "store") };
        var source = Path.Combine(dir.Path, "source");
        Directory.CreateDirectory(source);
        var contents = new Dictionary<string, byte[]>();
        // Segments 10..15 of timeline 1, then a gap at 16, then 17.
        foreach (var n in new[] { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x17 })
        {
            var name = $"0000000100000000000000{n:X2}";
            var bytes = new byte[16 * 1024 * 1024];
            RandomNumberGenerator.Fill(bytes.AsSpan(0, 4096));
            contents[name] = bytes;
            await File.WriteAllBytesAsync(Path.Combine(source, name), bytes);
            var push = await FloyoDr.RunAsync(env, "wal", "push", Path.Combine(source, name));
            Assert.True(push.ExitCode == 0, push.All);
        }
        // Damage 13's stored copy: the prefetch must not spool it (nor anything after it) nor fail the fetch of 10.
        var stored = Path.Combine(dir.Path, "store", "wal", "000000010000000000000013.zst");
        File.SetUnixFileMode(stored, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var damaged = await File.ReadAllBytesAsync(stored);
        damaged[damaged.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(stored, damaged);

        var pgWal = Path.Combine(dir.Path, "data", "pg_wal");
        Directory.CreateDirectory(pgWal);
        var destination = Path.Combine(pgWal, "RECOVERYXLOG");
        var fetch = await FloyoDr.RunAsync(env, "wal", "fetch", "000000010000000000000010", destination, "--prefetch", "8");
        Assert.True(fetch.ExitCode == 0, fetch.All);
        Assert.Equal(contents["000000010000000000000010"], await File.ReadAllBytesAsync(destination));

        var spool = Path.Combine(pgWal, "floyo-prefetch");
        var spooled = Directory.GetFiles(spool).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("000000010000000000000011", spooled);
        Assert.Contains("000000010000000000000012", spooled);
        Assert.DoesNotContain("000000010000000000000013", spooled);
        Assert.All(spooled, name => Assert.Equal(contents[name!], File.ReadAllBytes(Path.Combine(spool, name!))));
        Assert.DoesNotContain(spooled, name => name!.StartsWith(".", StringComparison.Ordinal));

        // A spooled segment is handed over without touching the archive (taken by name, moved out of the spool).
        Directory.Delete(Path.Combine(dir.Path, "store", "wal"), recursive: true);
        var next = await FloyoDr.RunAsync(env, "wal", "fetch", "000000010000000000000011", destination, "--prefetch", "8");
        Assert.True(next.ExitCode == 0, next.All);
        Assert.Equal(contents["000000010000000000000011"], await File.ReadAllBytesAsync(destination));
        Assert.False(File.Exists(Path.Combine(spool, "000000010000000000000011")));

        var bad = await FloyoDr.RunAsync(env, "wal", "fetch", "000000010000000000000012", destination, "--prefetch", "-1");
        Assert.Equal(2, bad.ExitCode);
    }
}
