using System.Security.Cryptography;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// wal push and wal fetch start without the generic host (WalArchiveFromSettings): their settings are still checked
/// before anything is touched, with the same one-line error and exit code a command on the full engine gives.
/// </summary>
public sealed class WalLeanStartTests
{
    private const string Segment = "000000010000000000000050";

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "BACKUP_COMPRESSION_LEVEL", "40", "error: BACKUP_COMPRESSION_LEVEL must be between 1 and 19" },
        { "BACKUP_RETENTION_DAYS", "thirty", "'BACKUP_RETENTION_DAYS'" },
        { "BACKUP_STORE", "tape", "error: BACKUP_STORE must be 'filesystem' or 'blob', not 'tape'" },
        { "PITR_PREFETCH_SEGMENTS", "999", "error: PITR_PREFETCH_SEGMENTS must be between 0 and 256" },
        { "WAL_PUSH_PARALLELISM", "0", "error: WAL_PUSH_PARALLELISM must be between 1 and 32" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_push_and_fetch_in_one_line_like_any_command_and_touches_nothing(string setting, string value, string expected)
    {
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = store, [setting] = value };
        var wal = Path.Combine(dir.Path, Segment);
        await File.WriteAllBytesAsync(wal, new byte[16 * 1024 * 1024]);

        var push = await FloyoDr.RunAsync(env, "wal", "push", wal);
        var batch = await FloyoDr.RunAsync(env, "wal", "push", "--batch", wal);
        var fetch = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, Path.Combine(dir.Path, "out"));
        // wal verify runs on the generic host with the whole engine: the reference for the message and the code.
        var full = await FloyoDr.RunAsync(env, "wal", "verify");

        Assert.Equal((int)ErrorKind.Configuration, full.ExitCode);
        Assert.Contains(expected, full.StdErr, StringComparison.Ordinal);
        foreach (var run in new[] { push, batch, fetch })
        {
            Assert.Equal((int)ErrorKind.Configuration, run.ExitCode);
            Assert.Equal(full.StdErr, run.StdErr);
            Assert.Single(run.StdErr.Trim().Split('\n'));
            Assert.Equal("", run.StdOut);
        }
        Assert.False(Directory.Exists(store));
        Assert.False(File.Exists(Path.Combine(dir.Path, "out")));
    }

    [Theory]
    // The Blob rules read the validated BACKUP_* settings: under the full engine an invalid one is all they report.
    [InlineData("0", "error: BACKUP_COMPRESSION_LEVEL must be between 1 and 19; PITR_PREFETCH_SEGMENTS must be between 0 and 256")]
    [InlineData("2", "error: BACKUP_BLOB_SERVICE_URI (managed identity) or BACKUP_BLOB_CONNECTION_STRING must be set; container name 'No_Such' is not valid")]
    public async Task Several_bad_settings_are_named_together_as_the_full_engine_names_them(string level, string expected)
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = Path.Combine(dir.Path, "store"),
            ["BACKUP_STORE"] = "blob",
            ["BACKUP_COMPRESSION_LEVEL"] = level,
            ["BACKUP_BLOB_CONTAINER"] = "No_Such",
            ["PITR_PREFETCH_SEGMENTS"] = "999",
        };
        var push = await FloyoDr.RunAsync(env, "wal", "push", Path.Combine(dir.Path, Segment));
        var full = await FloyoDr.RunAsync(env, "wal", "verify");

        Assert.Equal((int)ErrorKind.Configuration, push.ExitCode);
        Assert.Equal(full.StdErr, push.StdErr);
        Assert.StartsWith(expected, push.StdErr, StringComparison.Ordinal);
        Assert.EndsWith("PITR_PREFETCH_SEGMENTS must be between 0 and 256", push.StdErr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_and_fetch_log_at_FLOYO_LOG_LEVEL_and_are_silent_by_default()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = Path.Combine(dir.Path, "store") };
        var wal = Path.Combine(dir.Path, Segment);
        var content = new byte[16 * 1024 * 1024];
        RandomNumberGenerator.Fill(content.AsSpan(0, 4096));
        await File.WriteAllBytesAsync(wal, content);

        var quiet = await FloyoDr.RunAsync(env, "wal", "push", wal);
        Assert.True(quiet.ExitCode == 0, quiet.All);
        Assert.Equal("", quiet.All);

        env["FLOYO_LOG_LEVEL"] = "Information";
        var again = await FloyoDr.RunAsync(env, "wal", "push", wal);
        Assert.True(again.ExitCode == 0, again.All);
        Assert.Contains($"{Segment} was already archived with identical content", again.StdErr, StringComparison.Ordinal);
        var fetch = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, Path.Combine(dir.Path, "out"));
        Assert.True(fetch.ExitCode == 0, fetch.All);
        Assert.Contains($"Fetched {Segment} from the archive", fetch.StdErr, StringComparison.Ordinal);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(dir.Path, "out")));
    }
}
