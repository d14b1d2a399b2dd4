using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Storage;

/// <summary>The storage faults the issue names, each against real Azurite.</summary>
public sealed class BlobFaultTests
{
    /// <summary>About 40 MB of pg_dump output that zstd cannot shrink much: a backup that takes many blocks.</summary>
    private static async Task<string> BackUpAsync(Dictionary<string, string?> settings)
    {
        await using var engine = BlobEngine.Create(settings);
        return (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
    }

    private static async Task<TestDatabase> BulkyDatabaseAsync(int rows = 300_000)
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync($"CREATE TABLE events (id int PRIMARY KEY, a text, b text); INSERT INTO events SELECT g, md5(random()::text) || md5(random()::text), md5(random()::text) FROM generate_series(1, {rows}) g;");
        return db;
    }

    [Fact]
    public async Task Storage_killed_in_the_middle_of_an_upload_fails_the_backup_lists_nothing_and_the_next_backup_succeeds()
    {
        await using var db = await BulkyDatabaseAsync();
        await using var azurite = await PrivateAzurite.StartAsync();
        var settings = BlobEngine.Settings(azurite.ConnectionString, "backups", "off", db.Url);
        // A lease held by the run that storage cut off expires by itself (30 s); the next run may wait for it.
        settings["BACKUP_LOCK_WAIT_SECONDS"] = "45";
        var recorder = new HttpRecorder();

        await using (var engine = BlobEngine.Create(settings, recorder))
        {
            var backup = engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
            while (recorder.Requests.Count(r => r.Comp == "block") < 3 && !backup.IsCompleted)
            {
                await Task.Delay(20);
            }
            Assert.False(backup.IsCompleted, "the backup finished before storage could be stopped: make the test database bigger");
            await azurite.KillAsync();
            var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => backup);
            Assert.Matches("cannot reach blob storage|connection to blob storage", error.Message);
            Assert.DoesNotContain('\n', error.Message);
            Assert.DoesNotContain(recorder.Requests, r => r.Comp == "blocklist");
        }

        await azurite.StartAgainAsync();
        await using (var engine = BlobEngine.Create(settings))
        {
            Assert.Empty(await engine.GetRequiredService<BackupCatalog>().ListAsync(default));
            Assert.Empty(await BlobStoreTests.ToListAsync(engine.GetRequiredService<IBackupStore>().ListAsync("", default)));

            var meta = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata;
            var entry = Assert.Single(await engine.GetRequiredService<BackupCatalog>().ListAsync(default));
            Assert.Equal(meta.Name, entry.Name);
            Assert.True(entry.IsValid);
        }
    }

    [Fact]
    public async Task A_download_cut_mid_stream_is_resumed_from_its_offset_and_the_restore_matches()
    {
        await using var db = await BulkyDatabaseAsync(60_000);
        await using var container = new BlobTestContainer();
        var settings = BlobEngine.Settings(container.ConnectionString, container.Name, "off", db.Url);
        var name = await BackUpAsync(settings);

        var cut = new CutDownloads(name) { FirstCutAfterBytes = 1_500_000 };
        var recorder = new HttpRecorder();
        await using (var engine = BlobEngine.Create(settings, recorder, cut))
        {
            var target = $"{db.Name}_r";
            var result = await engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(name, target), null, default);
            Assert.Equal(target, result.TargetDatabase);
        }
        Assert.Equal(1, cut.Cuts);
        // The cut read (the checksum proof) carried on from the cut with a ranged GET.
        var resumedFrom = recorder.To(name).Where(r => r.Method == "GET" && r.Header("x-ms-range") is not null)
            .Select(r => long.Parse(r.Header("x-ms-range")!.Split('=')[1].Split('-')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(1_500_000L, resumedFrom);
        await using var restored = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(db.Server, $"{db.Name}_r"), default);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM events", restored);
        Assert.Equal(60_000L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_download_cut_while_rows_stream_into_the_database_is_resumed_and_the_restore_matches()
    {
        await using var db = await BulkyDatabaseAsync(60_000);
        await using var container = new BlobTestContainer();
        var settings = BlobEngine.Settings(container.ConnectionString, container.Name, "off", db.Url);
        var name = await BackUpAsync(settings);

        // The first read (the checksum proof) runs whole; the second, the stream into COPY, is cut mid-way.
        var cut = new CutDownloads(name) { FirstCutAfterBytes = long.MaxValue, LaterCutAfterBytes = 1_500_000 };
        await using (var engine = BlobEngine.Create(settings, handler: cut))
        {
            await engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(name, $"{db.Name}_r"), null, default);
        }
        // The proof, the cut stream, and at least one ranged read that carried it on (each of those is cut again later).
        Assert.True(cut.Cuts >= 3, $"expected the streamed read to be cut and resumed, saw {cut.Cuts} reads");
        await using var restored = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(db.Server, $"{db.Name}_r"), default);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM events", restored);
        Assert.Equal(60_000L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_download_that_cannot_be_resumed_fails_clearly_and_no_restore_starts()
    {
        await using var db = await BulkyDatabaseAsync(60_000);
        await using var container = new BlobTestContainer();
        using var work = new TempDirectory();
        var settings = BlobEngine.Settings(container.ConnectionString, container.Name, "off", db.Url);
        settings["FLOYO_WORK_DIR"] = work.Path;
        var name = await BackUpAsync(settings);

        var cut = new CutDownloads(name) { FirstCutAfterBytes = 1_000_000, LaterCutAfterBytes = 0 };
        await using (var engine = BlobEngine.Create(settings, handler: cut))
        {
            var target = $"{db.Name}_never";
            var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(name, target), null, default));
            Assert.Contains($"download of '{name}'", error.Message);
            Assert.Contains("interrupted at byte 1000000", error.Message);
            Assert.Contains("nothing partial was used", error.Message);
            Assert.DoesNotContain('\n', error.Message);
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(db.Server, "postgres"), default);
            await using var like = new NpgsqlCommand($"SELECT count(*) FROM pg_database WHERE datname LIKE '{db.Name}%'", admin);
            Assert.Equal(1L, (long)(await like.ExecuteScalarAsync())!);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Path));
    }
}
