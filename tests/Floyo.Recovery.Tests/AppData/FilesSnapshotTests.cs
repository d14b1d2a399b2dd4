using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Floyo.Recovery.AppData;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Storage;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Recovery.Tests.AppData;

/// <summary>Uploaded-files snapshots: an uploads container on Azurite, copied into a Blob backup store.</summary>
public sealed class FilesSnapshotTests
{
    private static Dictionary<string, string?> Settings(BlobTestContainer backups, BlobTestContainer uploads)
    {
        var settings = BlobEngine.Settings(backups.ConnectionString, backups.Name);
        settings["UPLOADS_BLOB_CONNECTION_STRING"] = uploads.ConnectionString;
        settings["UPLOADS_CONTAINER"] = uploads.Name;
        return settings;
    }

    private static async Task PutAsync(BlobContainerClient container, string name, byte[] content) =>
        await container.GetBlobClient(name).UploadAsync(new BinaryData(content), overwrite: true);

    private static async Task<byte[]> GetAsync(BlobContainerClient container, string name) =>
        (await container.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray();

    private static async Task<List<string>> NamesAsync(BlobContainerClient container)
    {
        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync())
        {
            names.Add(item.Name);
        }
        return [.. names.Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Snapshots_copy_only_new_and_changed_files_and_any_day_restores_as_it_was()
    {
        await using var backups = new BlobTestContainer(prefix: "b");
        await using var uploads = await new BlobTestContainer(prefix: "u").CreateAsync();
        await using var day1Target = new BlobTestContainer(prefix: "r1");
        await using var day2Target = new BlobTestContainer(prefix: "r2");
        var photo = RandomNumberGenerator.GetBytes(3 << 20);
        var scan = RandomNumberGenerator.GetBytes(100_000);
        await PutAsync(uploads.Client, "readme.txt", "version 1"u8.ToArray());
        await PutAsync(uploads.Client, "img/photo.png", photo);
        await PutAsync(uploads.Client, "img/scan.png", scan);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 2, 0, 0, TimeSpan.Zero));
        await using var engine = BlobEngine.Create(Settings(backups, uploads), clock: clock);
        var snapshots = engine.GetRequiredService<FilesSnapshotter>();

        var first = await snapshots.SnapshotAsync(default);
        Assert.Equal((3, 3, 0), (first.Files, first.CopiedFiles, first.ReusedFiles));

        clock.Advance(TimeSpan.FromDays(1));
        await PutAsync(uploads.Client, "readme.txt", "version 2"u8.ToArray());
        await PutAsync(uploads.Client, "notes/new.txt", "added on day 2"u8.ToArray());
        await uploads.Client.DeleteBlobAsync("img/scan.png");
        var second = await snapshots.SnapshotAsync(default);
        Assert.Equal((3, 2, 1), (second.Files, second.CopiedFiles, second.ReusedFiles));
        Assert.Equal(second.Bytes - photo.Length, second.CopiedBytes);

        var listed = await snapshots.ListAsync(default);
        Assert.Equal([second.Manifest, first.Manifest], listed.Select(s => s.Manifest));

        var restorer = engine.GetRequiredService<FilesRestorer>();
        var day1 = await restorer.RestoreAsync(new FilesRestoreRequest(new DateOnly(2026, 3, 1), TargetContainer: day1Target.Name), default);
        Assert.Equal(3, day1.Restored);
        Assert.Empty(day1.Failed);
        Assert.Equal(["img/photo.png", "img/scan.png", "readme.txt"], await NamesAsync(day1Target.Client));
        Assert.Equal("version 1"u8.ToArray(), await GetAsync(day1Target.Client, "readme.txt"));
        Assert.Equal(scan, await GetAsync(day1Target.Client, "img/scan.png"));
        Assert.Equal(photo, await GetAsync(day1Target.Client, "img/photo.png"));

        // A later day (no snapshot that day: the latest before it counts), one prefix only.
        var day2 = await restorer.RestoreAsync(new FilesRestoreRequest(new DateOnly(2026, 3, 20), "img/", day2Target.Name), default);
        Assert.Equal(1, day2.Restored);
        Assert.Equal(["img/photo.png"], await NamesAsync(day2Target.Client));

        // Into the live container: an existing file is left alone unless overwriting is asked for.
        var live = await restorer.RestoreAsync(new FilesRestoreRequest(new DateOnly(2026, 3, 1)), default);
        Assert.Equal(1, live.Restored);
        Assert.Equal(["img/photo.png", "readme.txt"], live.SkippedExisting);
        Assert.Equal("version 2"u8.ToArray(), await GetAsync(uploads.Client, "readme.txt"));
        Assert.Equal(scan, await GetAsync(uploads.Client, "img/scan.png"));
        await restorer.RestoreAsync(new FilesRestoreRequest(new DateOnly(2026, 3, 1), "readme", Overwrite: true), default);
        Assert.Equal("version 1"u8.ToArray(), await GetAsync(uploads.Client, "readme.txt"));

        var before = await Assert.ThrowsAnyAsync<RecoveryException>(() => restorer.RestoreAsync(new FilesRestoreRequest(new DateOnly(2026, 2, 28)), default));
        Assert.Contains("no files snapshot was taken on or before 2026-02-28", before.Message);
    }

    [Fact]
    public async Task An_interrupted_snapshot_writes_no_manifest_and_the_next_run_completes_it_copying_only_what_is_missing()
    {
        await using var backups = new BlobTestContainer(prefix: "b");
        await using var uploads = await new BlobTestContainer(prefix: "u").CreateAsync();
        var files = Enumerable.Range(0, 12).ToDictionary(i => $"doc-{i:D2}.bin", _ => RandomNumberGenerator.GetBytes(200_000));
        foreach (var (name, content) in files)
        {
            await PutAsync(uploads.Client, name, content);
        }
        var fault = new FailRequests(r => r.Method == HttpMethod.Get && r.RequestUri!.AbsolutePath.EndsWith($"/{uploads.Name}/doc-07.bin", StringComparison.Ordinal));
        await using var engine = BlobEngine.Create(Settings(backups, uploads), handler: fault);
        var snapshots = engine.GetRequiredService<FilesSnapshotter>();
        var store = engine.GetRequiredService<IBackupStore>();

        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => snapshots.SnapshotAsync(default));
        Assert.Contains("doc-07.bin", error.Message);
        Assert.Empty(await snapshots.ListAsync(default));
        var kept = (await BlobStoreTests.ToListAsync(store.ListAsync(FilesManifest.ObjectPrefix, default))).Count;
        Assert.InRange(kept, 1, 11);

        fault.Enabled = false;
        var completed = await snapshots.SnapshotAsync(default);
        Assert.Equal(12, completed.Files);
        Assert.Equal(12 - kept, completed.CopiedFiles);
        Assert.Equal(kept, completed.ReusedFiles);

        // Every file the manifest claims is held, with the checksum of the original.
        var manifest = (await snapshots.LatestAsync(DateOnly.MaxValue, default))!;
        foreach (var entry in manifest.Entries)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(files[entry.Name])), entry.Sha256);
            Assert.Equal(files[entry.Name], await BlobStoreTests.ReadAllAsync(store, entry.Object));
        }
    }

    [Fact]
    public async Task Cleanup_expires_old_snapshots_then_the_files_only_they_needed_and_keeps_the_newest()
    {
        await using var backups = new BlobTestContainer(prefix: "b");
        await using var uploads = await new BlobTestContainer(prefix: "u").CreateAsync();
        await PutAsync(uploads.Client, "a.txt", "a v1"u8.ToArray());
        await PutAsync(uploads.Client, "b.txt", "b"u8.ToArray());
        // Now, not a fixed date: the grace for young unreferenced objects compares against their real upload time.
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var clock = new FakeTimeProvider(start);
        var settings = Settings(backups, uploads);
        settings["FILES_RETENTION_DAYS"] = "90";
        await using var engine = BlobEngine.Create(settings, clock: clock);
        var snapshots = engine.GetRequiredService<FilesSnapshotter>();
        var store = engine.GetRequiredService<IBackupStore>();
        var first = await snapshots.SnapshotAsync(default);
        clock.Advance(TimeSpan.FromDays(1));
        await PutAsync(uploads.Client, "a.txt", "a v2"u8.ToArray());
        var second = await snapshots.SnapshotAsync(default);
        clock.Advance(TimeSpan.FromDays(94));
        var third = await snapshots.SnapshotAsync(default);
        Assert.Equal(0, third.CopiedFiles);
        var oldA = (await snapshots.ReadAsync(first.Manifest, default)).Entries.Single(e => e.Name == "a.txt").Object;

        var retention = engine.GetRequiredService<AppDataRetention>();
        var dry = await retention.CleanupFilesAsync(dryRun: true, default);
        Assert.Equal([first.Manifest, second.Manifest, oldA], dry.Deleted);
        Assert.Equal(3, (await snapshots.ListAsync(default)).Count);

        var done = await retention.CleanupFilesAsync(dryRun: false, default);
        Assert.Equal(dry.Deleted, done.Deleted);
        Assert.Empty(done.Failures);
        Assert.Equal([third.Manifest], (await snapshots.ListAsync(default)).Select(s => s.Manifest));
        Assert.Null(await store.GetAsync(oldA, default));
        foreach (var entry in (await snapshots.ReadAsync(third.Manifest, default)).Entries)
        {
            Assert.NotNull(await store.GetAsync(entry.Object, default));
        }
        var gone = await Assert.ThrowsAnyAsync<RecoveryException>(() => engine.GetRequiredService<FilesRestorer>().RestoreAsync(new FilesRestoreRequest(DateOnly.FromDateTime(start.UtcDateTime)), default));
        Assert.Contains("no files snapshot was taken on or before", gone.Message);
    }

    [Fact]
    public async Task Floyo_dr_files_snapshot_list_and_restore_work_from_the_command_line()
    {
        await using var backups = new BlobTestContainer(prefix: "b");
        await using var uploads = await new BlobTestContainer(prefix: "u").CreateAsync();
        await using var target = new BlobTestContainer(prefix: "r");
        await PutAsync(uploads.Client, "invoices/2026/01.pdf", RandomNumberGenerator.GetBytes(50_000));
        await PutAsync(uploads.Client, "avatars/1.png", RandomNumberGenerator.GetBytes(5_000));
        var env = new Dictionary<string, string?>(Settings(backups, uploads));

        var snapshot = await FloyoDr.RunAsync(env, "files", "snapshot");
        Assert.True(snapshot.ExitCode == 0, snapshot.All);
        Assert.Contains("2 files", snapshot.StdOut);
        var list = await FloyoDr.RunAsync(env, "files", "list", "--json");
        Assert.True(list.ExitCode == 0, list.All);
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(list.StdOut).RootElement[0].GetProperty("files").GetInt32());

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var restore = await FloyoDr.RunAsync(env, "files", "restore", "--date", today, "--prefix", "invoices/", "--target-container", target.Name);
        Assert.True(restore.ExitCode == 0, restore.All);
        Assert.Equal(["invoices/2026/01.pdf"], await NamesAsync(target.Client));
        var bad = await FloyoDr.RunAsync(env, "files", "restore", "--date", "yesterday");
        Assert.Equal((int)ErrorKind.Usage, bad.ExitCode);
        Assert.Equal("error: --date must be a day as YYYY-MM-DD, not 'yesterday'", bad.StdErr.Trim());
    }
}
