using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Tests.Storage;

/// <summary>The Blob driver against a real Azurite, through the same interface every command uses.</summary>
public sealed class BlobStoreTests
{
    private static (ServiceProvider Engine, IBackupStore Store) Open(BlobTestContainer container, string mode = "off", HttpRecorder? recorder = null, HttpMessageHandler? handler = null)
    {
        var engine = BlobEngine.Create(BlobEngine.Settings(container.ConnectionString, container.Name, mode), recorder, handler);
        return (engine, engine.GetRequiredService<IBackupStore>());
    }

    [Fact]
    public async Task A_large_object_is_staged_in_parallel_blocks_and_appears_only_when_committed()
    {
        await using var container = new BlobTestContainer();
        var recorder = new HttpRecorder();
        var (engine, store) = Open(container, recorder: recorder);
        await using var _ = engine;
        var data = RandomNumberGenerator.GetBytes((5 << 20) + 12345);

        await using (var writer = await store.CreateAsync("db_full_20260101_000000.dump.zst", ObjectRetention.None, default))
        {
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                await writer.Stream.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)));
            }
            Assert.Null(await store.GetAsync("db_full_20260101_000000.dump.zst", default));
            Assert.Empty(await ToListAsync(store.ListAsync("", default)));
            await writer.CommitAsync(default);
        }

        var blocks = (await container.Client.GetBlockBlobClient("db_full_20260101_000000.dump.zst").GetBlockListAsync(BlockListTypes.Committed)).Value;
        Assert.Equal(6, blocks.CommittedBlocks.Count());
        Assert.Equal(6, recorder.Requests.Count(r => r.Comp == "block"));
        var commit = Assert.Single(recorder.Requests, r => r.Comp == "blocklist");
        Assert.Equal("*", commit.Header("If-None-Match"));
        Assert.Equal(data, await ReadAllAsync(store, "db_full_20260101_000000.dump.zst"));

        var listed = Assert.Single(await ToListAsync(store.ListAsync("", default)));
        Assert.Equal(data.Length, listed.Size);
        Assert.Equal("db", listed.Tags!["database"]);
        Assert.Equal("full", listed.Tags["type"]);
        Assert.Equal("20260101", listed.Tags["date"]);
        Assert.Equal("backup-data", listed.Tags["kind"]);
    }

    [Fact]
    public async Task An_uncommitted_writer_leaves_nothing_visible_and_committed_objects_are_never_overwritten()
    {
        await using var container = new BlobTestContainer();
        var (engine, store) = Open(container);
        await using var _ = engine;

        await using (var abandoned = await store.CreateAsync("x_full_20260101_000000.dump", ObjectRetention.None, default))
        {
            await abandoned.Stream.WriteAsync(RandomNumberGenerator.GetBytes(3 << 20));
        }
        Assert.Null(await store.GetAsync("x_full_20260101_000000.dump", default));
        Assert.Empty(await ToListAsync(store.ListAsync("", default)));

        await store.WriteAllAsync("a/b.json", "first"u8.ToArray(), ObjectRetention.None, default);
        var again = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.WriteAllAsync("a/b.json", "second"u8.ToArray(), ObjectRetention.None, default));
        Assert.Contains("never overwritten", again.Message);
        await Assert.ThrowsAnyAsync<RecoveryException>(() => store.CreateAsync("a/b.json", ObjectRetention.None, default));

        // Two writers racing for one name: the second commit is refused by If-None-Match: *.
        await using var first = await store.CreateAsync("race.bin", ObjectRetention.None, default);
        await using var second = await store.CreateAsync("race.bin", ObjectRetention.None, default);
        await first.Stream.WriteAsync("one"u8.ToArray());
        await second.Stream.WriteAsync("two"u8.ToArray());
        await first.CommitAsync(default);
        var race = await Assert.ThrowsAnyAsync<RecoveryException>(() => second.CommitAsync(default));
        Assert.Contains("never overwritten", race.Message);
        Assert.Equal("one"u8.ToArray(), await ReadAllAsync(store, "race.bin"));
        Assert.Equal("first"u8.ToArray(), await ReadAllAsync(store, "a/b.json"));
    }

    [Fact]
    public async Task Locks_are_leases_that_exclude_a_second_holder_until_released()
    {
        await using var container = new BlobTestContainer();
        var (engine, store) = Open(container);
        await using var _ = engine;

        var held = await store.LockAsync("backup-db", TimeSpan.Zero, default);
        var refused = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.LockAsync("backup-db", TimeSpan.FromSeconds(2), default));
        Assert.Contains("another floyo-dr run holds the lock", refused.Message);
        await using (await store.LockAsync("other-key", TimeSpan.Zero, default))
        {
        }
        await held.DisposeAsync();
        await using (await store.LockAsync("backup-db", TimeSpan.Zero, default))
        {
        }
        Assert.Empty(await ToListAsync(store.ListAsync("", default)));
    }

    [Fact]
    public async Task Missing_container_is_created_only_when_immutability_is_off()
    {
        await using var container = new BlobTestContainer();
        var (engine, store) = Open(container, mode: "unlocked");
        await using (engine)
        {
            var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.WriteAllAsync("a.json", "{}"u8.ToArray(), ObjectRetention.None, default));
            Assert.Contains($"the container {TestServers.BlobEndpoint}/{container.Name} does not exist", error.Message);
            Assert.Contains("BACKUP_IMMUTABILITY_MODE=off", error.Message);
            Assert.DoesNotContain('\n', error.Message);
            Assert.False((await container.Client.ExistsAsync()).Value);
        }

        var (offEngine, offStore) = Open(container, mode: "off");
        await using (offEngine)
        {
            await offStore.WriteAllAsync("a.json", "{}"u8.ToArray(), ObjectRetention.None, default);
            Assert.True((await container.Client.ExistsAsync()).Value);
        }
    }

    [Fact]
    public async Task Wrong_credentials_give_one_line_without_the_key()
    {
        await using var container = await new BlobTestContainer().CreateAsync();
        var wrongKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var connection = System.Text.RegularExpressions.Regex.Replace(container.ConnectionString, "AccountKey=[^;]+", "AccountKey=" + wrongKey);
        var engine = BlobEngine.Create(BlobEngine.Settings(connection, container.Name));
        await using var _ = engine;
        var store = engine.GetRequiredService<IBackupStore>();

        var error = await Assert.ThrowsAnyAsync<RecoveryException>(async () => await ToListAsync(store.ListAsync("", default)));
        Assert.StartsWith($"access to {TestServers.BlobEndpoint}/{container.Name} was denied (HTTP 403", error.Message);
        Assert.DoesNotContain(wrongKey, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Azurite_has_no_immutability_so_writes_with_it_on_fail_clearly_and_keep_nothing()
    {
        await using var container = await new BlobTestContainer().CreateAsync();
        var recorder = new HttpRecorder();
        var (engine, store) = Open(container, mode: "unlocked", recorder: recorder);
        await using var _ = engine;

        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.CreateAsync("db_full_20260101_000000.dump.zst", new ObjectRetention(DateTimeOffset.UtcNow.AddDays(30)), default));
        Assert.Contains("does not support immutability policies (HTTP 501 APINotImplemented)", error.Message);
        Assert.Contains("BACKUP_IMMUTABILITY_MODE=off", error.Message);
        // The probe asked for the policy with the upload, then explicitly, which Azurite refused with its 501.
        Assert.Contains(recorder.Requests, r => r.Comp == "immutabilityPolicies" && r.Method == "PUT");
        Assert.Empty(await ToListAsync(store.ListAsync("", default)));
        await foreach (var hidden in container.Client.GetBlobsAsync())
        {
            Assert.Fail($"the probe left {hidden.Name} behind");
        }

        var hold = await Assert.ThrowsAnyAsync<RecoveryException>(async () =>
        {
            var (offEngine, offStore) = Open(container, mode: "off");
            await using (offEngine)
            {
                await offStore.WriteAllAsync("x.json", "{}"u8.ToArray(), ObjectRetention.None, default);
                await offStore.SetLegalHoldAsync("x.json", true, default);
            }
        });
        Assert.Contains("does not support legal hold (HTTP 501", hold.Message);
    }

    [Fact]
    public async Task Invalid_blob_settings_fail_at_start_naming_the_setting()
    {
        var settings = BlobEngine.Settings("", "Bad_Name", "sometimes");
        await using var engine = BlobEngine.Create(settings);
        var error = Assert.Throws<OptionsValidationException>(() => engine.GetRequiredService<IOptions<BlobStoreOptions>>().Value);
        Assert.Contains("BACKUP_IMMUTABILITY_MODE must be", error.Message);
        Assert.Contains("BACKUP_BLOB_SERVICE_URI (managed identity) or BACKUP_BLOB_CONNECTION_STRING must be set", error.Message);
        Assert.Contains("container name 'Bad_Name' is not valid", error.Message);
    }

    internal static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }
        return list;
    }

    internal static async Task<byte[]> ReadAllAsync(IBackupStore store, string name)
    {
        await using var stream = await store.OpenReadAsync(name, default);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
