using System.Diagnostics;
using System.Security.Cryptography;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>The issue's fault tests: a push killed mid-write, Blob storage stopped mid-push, a base backup killed mid-stream.</summary>
public sealed class WalFaultTests
{
    private const string Segment = "00000001000000000000003C";

    [Fact]
    public async Task A_push_killed_at_any_moment_never_leaves_a_fetchable_half_segment_and_the_retry_succeeds()
    {
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = store };
        var path = Path.Combine(dir.Path, Segment);
        // Incompressible, so the store write itself takes a measurable part of the push.
        var content = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        await File.WriteAllBytesAsync(path, content);

        // Killed while the compressed segment is being written into the store (its partial file exists), or, with a
        // delay after that, between the data and its record, or not at all when the push wins the race.
        var outcomes = new List<string>();
        var partials = Path.Combine(store, ".partial");
        foreach (var delayMs in new[] { 0, 0, 0, 5, 20, 60 })
        {
            using var push = FloyoDr.Start(env, "wal", "push", path);
            while (!push.HasExited && !(Directory.Exists(partials) && Directory.EnumerateFiles(partials).Any()))
            {
                await Task.Delay(1);
            }
            await Task.Delay(delayMs);
            var killed = !push.HasExited;
            if (killed)
            {
                push.Kill(entireProcessTree: true);
            }
            await push.WaitForExitAsync();
            var fraction = $"{delayMs}ms-{outcomes.Count}";

            // Never damaged (126) and never partial: either not archived at all, or the segment exactly.
            var destination = Path.Combine(dir.Path, $"fetched-{fraction}");
            var fetch = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, destination);
            Assert.True(fetch.ExitCode is 0 or 1, fetch.All);
            if (fetch.ExitCode == 0)
            {
                Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(destination)));
            }
            else
            {
                Assert.False(File.Exists(destination));
            }
            outcomes.Add($"{fraction}: {(killed ? "killed" : "finished")}, fetch {fetch.ExitCode}");

            // PostgreSQL retries archive_command: the retry succeeds and the archive holds the segment whole.
            var retry = await FloyoDr.RunAsync(env, "wal", "push", path);
            Assert.True(retry.ExitCode == 0, $"{string.Join("; ", outcomes)}: {retry.All}");
            var after = await FloyoDr.RunAsync(env, "wal", "fetch", Segment, destination + ".retry");
            Assert.Equal(0, after.ExitCode);
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(destination + ".retry")));

            // Start clean for the next kill point; nothing a killed writer left is ever listed.
            Assert.DoesNotContain(Directory.GetFiles(store, "*", SearchOption.AllDirectories), f => !f.Contains("/.partial/", StringComparison.Ordinal)
                && !f.EndsWith(Segment + ".zst", StringComparison.Ordinal) && !f.EndsWith(Segment + ".json", StringComparison.Ordinal));
            foreach (var file in Directory.GetFiles(Path.Combine(store, "wal")).Concat(Directory.GetFiles(partials)))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.Delete(file);
            }
        }
        Assert.Contains(outcomes, o => o.Contains("killed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Blob_storage_stopped_mid_push_fails_the_push_leaves_nothing_visible_and_the_retry_after_restart_succeeds()
    {
        await using var azurite = await PrivateAzurite.StartAsync();
        using var dir = new TempDirectory();
        var settings = BlobEngine.Settings(azurite.ConnectionString, "wal", "off", null);
        var path = Path.Combine(dir.Path, Segment);
        // Incompressible, so the upload of the data object lasts long enough to be cut.
        var content = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        await File.WriteAllBytesAsync(path, content);
        var recorder = new HttpRecorder();

        await using (var engine = BlobEngine.Create(settings, recorder))
        {
            var push = engine.GetRequiredService<WalArchive>().PushAsync(path, default);
            while (!recorder.To(Segment + ".zst").Any(r => r.Method == "PUT") && !push.IsCompleted)
            {
                await Task.Delay(5);
            }
            Assert.False(push.IsCompleted, "the push finished before storage could be stopped");
            await azurite.KillAsync();
            var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => push);
            Assert.DoesNotContain('\n', error.Message);
            // The record (what makes a segment archived) was never written.
            Assert.DoesNotContain(recorder.To(Segment + ".json"), r => r.Method == "PUT");
        }

        await azurite.StartAgainAsync();
        await using (var engine = BlobEngine.Create(settings))
        {
            var archive = engine.GetRequiredService<WalArchive>();
            Assert.Empty(await archive.ListAsync(default));
            Assert.Equal(FetchOutcome.NotArchived, await archive.FetchAsync(Segment, Path.Combine(dir.Path, "nothing"), default));

            // Archived, or completed: storage may have committed the data object just before it went away.
            Assert.Contains(await archive.PushAsync(path, default), new[] { PushOutcome.Archived, PushOutcome.AlreadyArchived });
            Assert.Equal(FetchOutcome.Fetched, await archive.FetchAsync(Segment, Path.Combine(dir.Path, "fetched"), default));
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(dir.Path, "fetched"))));
            Assert.Equal(PushOutcome.AlreadyArchived, await archive.PushAsync(path, default));
        }
    }

    [Fact]
    public async Task A_base_backup_killed_mid_stream_lists_nothing_and_the_next_base_backup_removes_its_partial_tar()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        // Enough data that the stream lasts long enough to be cut.
        await cluster.ExecuteAsync("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS pad FROM generate_series(1, 1500000) g");
        await cluster.ExecuteAsync("CHECKPOINT");
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "store");
        var env = new Dictionary<string, string?> { ["BACKUP_DIR"] = store, ["DATABASE_URL"] = cluster.Url };
        var partials = Path.Combine(store, ".partial");

        using (var backup = FloyoDr.Start(env, "backup", "--base"))
        {
            var deadline = Stopwatch.StartNew();
            while (!(Directory.Exists(partials) && Directory.GetFiles(partials).Any(f => new FileInfo(f).Length > 1024 * 1024)) && !backup.HasExited)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), "the base backup never started writing");
                await Task.Delay(10);
            }
            Assert.False(backup.HasExited, "the base backup finished before it could be killed: make the table bigger");
            backup.Kill(entireProcessTree: true);
            await backup.WaitForExitAsync();
        }
        var leftover = Assert.Single(Directory.GetFiles(partials));

        var list = await FloyoDr.RunAsync(env, "list");
        Assert.True(list.ExitCode == 0, list.All);
        Assert.DoesNotContain("base/base_", list.StdOut);
        Assert.False(Directory.Exists(Path.Combine(store, "base")) && Directory.GetFiles(Path.Combine(store, "base")).Length > 0);

        var next = await FloyoDr.RunAsync(env, "backup", "--base");
        Assert.True(next.ExitCode == 0, next.All);
        Assert.False(File.Exists(leftover), "the killed base backup's partial tar is still there");
        Assert.Empty(Directory.GetFiles(partials));
        var bases = Directory.GetFiles(Path.Combine(store, "base"), "*.tar.zst");
        Assert.Single(bases);
    }
}
