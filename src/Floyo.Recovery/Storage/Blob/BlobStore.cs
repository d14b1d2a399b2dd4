using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>
/// The Azure Blob driver. Objects are block blobs: data is staged in parallel blocks and becomes visible
/// only when the block list is committed (with If-None-Match: *, so nothing is ever overwritten), carrying
/// its version-level immutability policy and index tags in the same request. Where immutability is asked
/// for but the service does not apply it (Azurite: 501), writes fail instead of storing unprotected copies.
/// Locks are leases on small hidden blobs; legal hold maps to the service's own.
/// </summary>
public sealed partial class BlobStore : IBackupStore
{
    internal const string HiddenPrefix = ".floyo/";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    private readonly BlobContainerClient _container;
    private readonly BlobLocation _settings;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _readyLock = new(1, 1);
    private bool _exists;
    private bool _writable;

    public BlobStore(BlobContainerClient container, BlobLocation settings, TimeProvider clock, ILogger logger)
    {
        _container = container;
        _settings = settings;
        _clock = clock;
        _logger = logger;
        Location = BlobClientFactory.Describe(container);
    }

    public string Location { get; }

    public ImmutabilityMode Mode => _settings.Mode;

    /// <summary>Reached through its service URI with Entra ID (a deployed store), not a connection string (Azurite, a key).</summary>
    public bool ServiceEndpoint => string.IsNullOrEmpty(_settings.ConnectionString) && !string.IsNullOrEmpty(_settings.ServiceUri);

    /// <summary>The setting holding this store's immutability mode, for messages.</summary>
    public string ModeSetting => _settings.SettingPrefix == "BACKUP_BLOB" ? "BACKUP_IMMUTABILITY_MODE" : $"{_settings.SettingPrefix.Replace("_BLOB", "", StringComparison.Ordinal)}_IMMUTABILITY_MODE";

    internal BlobContainerClient Container => _container;

    public async Task<IObjectWriter> CreateAsync(string name, ObjectRetention retention, CancellationToken ct)
    {
        ObjectName.Check(name);
        await EnsureWritableAsync(ct);
        var blob = _container.GetBlockBlobClient(name);
        if (await ExistsAsync(blob, ct))
        {
            throw AlreadyExists(name);
        }
        var stream = new BlockUploadStream(blob, _settings.BlockSizeMiB << 20, _settings.UploadParallelism, Location);
        return new Writer(this, blob, stream, retention);
    }

    public async Task WriteAllAsync(string name, ReadOnlyMemory<byte> content, ObjectRetention retention, CancellationToken ct)
    {
        ObjectName.Check(name);
        await EnsureWritableAsync(ct);
        var blob = _container.GetBlockBlobClient(name);
        var policy = PolicyFor(retention);
        try
        {
            using var stream = new MemoryStream(content.ToArray(), writable: false);
            await blob.UploadAsync(stream, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                ImmutabilityPolicy = policy,
                Tags = TagsFor(name),
            }, ct);
        }
        catch (RequestFailedException e) when (IsConflict(e))
        {
            throw AlreadyExists(name);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, Location, $"writing '{name}'");
        }
        await EnsureProtectedAsync(blob, policy, ct);
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken ct)
    {
        ObjectName.Check(name);
        await EnsureExistsAsync(ct);
        var blob = _container.GetBlockBlobClient(name);
        var properties = await PropertiesAsync(blob, ct) ?? throw new ObjectNotFoundException(name);
        return new ResumingDownloadStream(blob, properties.ETag, properties.ContentLength, Location);
    }

    public async Task<StoredObject?> GetAsync(string name, CancellationToken ct)
    {
        ObjectName.Check(name);
        await EnsureExistsAsync(ct);
        var properties = await PropertiesAsync(_container.GetBlockBlobClient(name), ct);
        return properties is null ? null : new StoredObject(name, properties.ContentLength, properties.LastModified, properties.HasLegalHold, properties.ImmutabilityPolicy?.ExpiresOn);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        await EnsureExistsAsync(ct);
        // Azurite rejects the immutability traits; they only mean something where immutability is on.
        var traits = (_settings.IndexTags ? BlobTraits.Tags : BlobTraits.None) | (_settings.Mode == ImmutabilityMode.Off ? BlobTraits.None : BlobTraits.ImmutabilityPolicy | BlobTraits.LegalHold);
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Traits = traits, Prefix = prefix }, ct).AsPages().GetAsyncEnumerator(ct);
        try
        {
            while (true)
            {
                Page<BlobItem> page;
                try
                {
                    if (!await pages.MoveNextAsync())
                    {
                        break;
                    }
                    page = pages.Current;
                }
                catch (Exception e) when (BlobErrors.IsStorageFailure(e))
                {
                    throw BlobErrors.Map(e, Location, "listing");
                }
                foreach (var item in page.Values)
                {
                    if (item.Name.Split('/').Any(s => s.StartsWith('.')) || item.Deleted)
                    {
                        continue;
                    }
                    yield return new StoredObject(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue,
                        item.Properties.HasLegalHold, item.Properties.ImmutabilityPolicy?.ExpiresOn)
                    { Tags = item.Tags is null ? null : new Dictionary<string, string>(item.Tags) };
                }
            }
        }
        finally
        {
            await pages.DisposeAsync();
        }
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        ObjectName.Check(name);
        await EnsureExistsAsync(ct);
        var blob = _container.GetBlockBlobClient(name);
        var properties = await PropertiesAsync(blob, ct) ?? throw new ObjectNotFoundException(name);
        // Never send a delete the service must refuse: WORM refusals are findings, not errors to provoke.
        if (properties.HasLegalHold)
        {
            throw new ObjectProtectedException(name, "legal hold");
        }
        if (properties.ImmutabilityPolicy?.ExpiresOn is { } until && until > _clock.GetUtcNow())
        {
            throw new ObjectProtectedException(name, $"immutability policy until {until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}");
        }
        try
        {
            await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, ct);
        }
        catch (RequestFailedException e) when (BlobErrors.IsProtected(e, out var why))
        {
            throw new ObjectProtectedException(name, why);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ObjectNotFoundException(name);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, Location, $"deleting '{name}'");
        }
    }

    public async Task SetLegalHoldAsync(string name, bool hold, CancellationToken ct)
    {
        ObjectName.Check(name);
        await EnsureExistsAsync(ct);
        var blob = _container.GetBlockBlobClient(name);
        try
        {
            await blob.SetLegalHoldAsync(hold, ct);
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode != "ContainerNotFound")
        {
            throw new ObjectNotFoundException(name);
        }
        catch (RequestFailedException e) when (BlobErrors.IsNotImplemented(e))
        {
            throw new RecoveryException($"the storage service at {Location} does not support legal hold (HTTP {e.Status} {e.ErrorCode}); Azurite does not implement it, and in Azure the container needs version-level immutability", e);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, Location, $"setting legal hold on '{name}'");
        }
        LogLegalHold(_logger, name, hold, Location);
    }

    public async Task ExtendRetentionAsync(string name, ObjectRetention retention, CancellationToken ct)
    {
        ObjectName.Check(name);
        if (_settings.Mode == ImmutabilityMode.Off || retention.RetainUntil is not { } until)
        {
            return;
        }
        var blob = _container.GetBlockBlobClient(name);
        var properties = await PropertiesAsync(blob, ct) ?? throw new ObjectNotFoundException(name);
        if (properties.ImmutabilityPolicy?.ExpiresOn >= until)
        {
            return;
        }
        // A locked policy stays locked; only its expiry moves out.
        var mode = properties.ImmutabilityPolicy?.PolicyMode == BlobImmutabilityPolicyMode.Locked ? BlobImmutabilityPolicyMode.Locked : ServiceMode();
        await SetPolicyAsync(blob, new BlobImmutabilityPolicy { ExpiresOn = until, PolicyMode = mode }, ct);
    }

    public async Task<IAsyncDisposable> LockAsync(string key, TimeSpan wait, CancellationToken ct)
    {
        await EnsureExistsAsync(ct);
        var blob = _container.GetBlockBlobClient($"{HiddenPrefix}locks/{Uri.EscapeDataString(key)}");
        try
        {
            using var empty = new MemoryStream([], writable: false);
            await blob.UploadAsync(empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // It exists (and may be leased right now): that is the normal case.
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, Location, $"the lock '{key}'");
        }
        var lease = blob.GetBlobLeaseClient();
        var started = _clock.GetTimestamp();
        while (true)
        {
            try
            {
                await lease.AcquireAsync(LeaseDuration, conditions: null, ct);
                return new LeaseLock(lease, LeaseDuration, _logger, key);
            }
            catch (RequestFailedException e) when (e.Status == 409 && _clock.GetElapsedTime(started) < wait)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                throw new UnavailableException($"another floyo-dr run holds the lock '{key}' in {Location}; try again when it has finished (an abandoned lock expires within {LeaseDuration.TotalSeconds:F0} s)", e);
            }
            catch (Exception e) when (BlobErrors.IsStorageFailure(e))
            {
                throw BlobErrors.Map(e, Location, $"the lock '{key}'");
            }
        }
    }

    private Dictionary<string, string>? TagsFor(string name) => _settings.IndexTags ? BlobIndexTags.For(name) : null;

    /// <summary>The policy a new object gets: none when immutability is off or nothing asks for retention.</summary>
    internal BlobImmutabilityPolicy? PolicyFor(ObjectRetention retention) =>
        _settings.Mode == ImmutabilityMode.Off || retention.RetainUntil is not { } until
            ? null
            : new BlobImmutabilityPolicy { ExpiresOn = until, PolicyMode = ServiceMode() };

    private BlobImmutabilityPolicyMode ServiceMode() =>
        _settings.Mode == ImmutabilityMode.Locked ? BlobImmutabilityPolicyMode.Locked : BlobImmutabilityPolicyMode.Unlocked;

    /// <summary>
    /// The service must show the policy on the committed version. Azurite accepts the headers and ignores
    /// them; asking again explicitly then gets its 501, which becomes the clear failure.
    /// </summary>
    private async Task EnsureProtectedAsync(BlockBlobClient blob, BlobImmutabilityPolicy? policy, CancellationToken ct)
    {
        if (policy is null)
        {
            return;
        }
        var properties = await PropertiesAsync(blob, ct);
        if (properties?.ImmutabilityPolicy?.ExpiresOn is { } applied && applied >= policy.ExpiresOn!.Value.AddSeconds(-1))
        {
            return;
        }
        await SetPolicyAsync(blob, policy, ct);
    }

    private async Task SetPolicyAsync(BlockBlobClient blob, BlobImmutabilityPolicy policy, CancellationToken ct)
    {
        try
        {
            await blob.SetImmutabilityPolicyAsync(policy, conditions: null, ct);
        }
        catch (RequestFailedException e) when (BlobErrors.IsNotImplemented(e))
        {
            throw NotSupported(e);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, Location, $"setting the immutability policy of '{blob.Name}'");
        }
    }

    internal RecoveryException NotSupported(RequestFailedException e) =>
        new($"the storage service at {Location} does not support immutability policies (HTTP {e.Status} {e.ErrorCode}), so backups would not be write-once; nothing was kept. Azurite does not implement WORM: set BACKUP_IMMUTABILITY_MODE=off for local storage only", e);

    private async Task EnsureExistsAsync(CancellationToken ct)
    {
        if (_exists)
        {
            return;
        }
        await _readyLock.WaitAsync(ct);
        try
        {
            if (_exists)
            {
                return;
            }
            BlobContainerProperties? properties = null;
            try
            {
                properties = (await _container.GetPropertiesAsync(conditions: null, ct)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                if (_settings.Mode != ImmutabilityMode.Off)
                {
                    throw new ConfigurationException($"the container {Location} does not exist; with BACKUP_IMMUTABILITY_MODE={_settings.Mode.ToString().ToLowerInvariant()} it must be provisioned with version-level immutability (the deployment does this in Azure); for local storage such as Azurite set BACKUP_IMMUTABILITY_MODE=off and it is created", e);
                }
                try
                {
                    await _container.CreateIfNotExistsAsync(PublicAccessType.None, metadata: null, ct);
                }
                catch (Exception inner) when (BlobErrors.IsStorageFailure(inner))
                {
                    throw BlobErrors.Map(inner, Location, "creating the container");
                }
                LogContainerCreated(_logger, Location);
            }
            catch (Exception e) when (BlobErrors.IsStorageFailure(e))
            {
                throw BlobErrors.Map(e, Location);
            }
            _writable = _settings.Mode == ImmutabilityMode.Off || properties?.HasImmutableStorageWithVersioning == true;
            _exists = true;
        }
        finally
        {
            _readyLock.Release();
        }
    }

    /// <summary>Before the first write: the container exists, and immutability (when on) is really applied.</summary>
    private async Task EnsureWritableAsync(CancellationToken ct)
    {
        await EnsureExistsAsync(ct);
        if (_writable)
        {
            return;
        }
        // The container did not report version-level immutability: prove support with a probe before a
        // long backup runs, rather than failing at its end.
        var probe = await ImmutabilityProbe.TryApplyPolicyAsync(this, ct);
        if (probe.Failure is { } failure)
        {
            throw failure;
        }
        _writable = true;
    }

    private static async Task<bool> ExistsAsync(BlockBlobClient blob, CancellationToken ct) =>
        await PropertiesCoreAsync(blob, ct) is not null;

    private async Task<BlobProperties?> PropertiesAsync(BlockBlobClient blob, CancellationToken ct)
    {
        try
        {
            return await PropertiesCoreAsync(blob, ct);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, Location, $"'{blob.Name}'");
        }
    }

    private static async Task<BlobProperties?> PropertiesCoreAsync(BlockBlobClient blob, CancellationToken ct)
    {
        try
        {
            return (await blob.GetPropertiesAsync(conditions: null, ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode != "ContainerNotFound")
        {
            return null;
        }
    }

    private static bool IsConflict(RequestFailedException e) =>
        e.Status is 409 or 412 && e.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" or null;

    private RecoveryException AlreadyExists(string name) =>
        new($"'{name}' already exists in {Location}; backups are never overwritten");

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Created container {Location} (immutability off)")]
    private static partial void LogContainerCreated(ILogger logger, string location);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Legal hold on {Name} set to {Hold} in {Location}")]
    private static partial void LogLegalHold(ILogger logger, string name, bool hold, string location);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Could not release the lease on lock {Key}; it expires by itself")]
    internal static partial void LogLeaseReleaseFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Could not renew the lease on lock {Key}")]
    internal static partial void LogLeaseRenewFailed(ILogger logger, string key, Exception exception);

    private sealed class Writer(BlobStore store, BlockBlobClient blob, BlockUploadStream stream, ObjectRetention retention) : IObjectWriter
    {
        public Stream Stream => stream;

        public async Task CommitAsync(CancellationToken ct)
        {
            var ids = await stream.CompleteAsync(ct);
            var policy = store.PolicyFor(retention);
            try
            {
                await blob.CommitBlockListAsync(ids, new CommitBlockListOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    ImmutabilityPolicy = policy,
                    Tags = store.TagsFor(blob.Name),
                }, ct);
            }
            catch (RequestFailedException e) when (IsConflict(e))
            {
                throw store.AlreadyExists(blob.Name);
            }
            catch (Exception e) when (BlobErrors.IsStorageFailure(e))
            {
                throw BlobErrors.Map(e, store.Location, $"committing '{blob.Name}'");
            }
            await store.EnsureProtectedAsync(blob, policy, ct);
        }

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }

    /// <summary>A held lease, renewed in the background at a third of its duration until disposed.</summary>
    private sealed class LeaseLock : IAsyncDisposable
    {
        private readonly BlobLeaseClient _lease;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewal;
        private readonly ILogger _logger;
        private readonly string _key;

        public LeaseLock(BlobLeaseClient lease, TimeSpan duration, ILogger logger, string key)
        {
            _lease = lease;
            _logger = logger;
            _key = key;
            _renewal = RenewAsync(duration / 3, _stop.Token);
        }

        private async Task RenewAsync(TimeSpan every, CancellationToken ct)
        {
            using var timer = new PeriodicTimer(every);
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    try
                    {
                        await _lease.RenewAsync(conditions: null, ct);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogLeaseRenewFailed(_logger, _key, e);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _renewal;
            _stop.Dispose();
            try
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _lease.ReleaseAsync(conditions: null, quick.Token);
            }
            catch (Exception e)
            {
                LogLeaseReleaseFailed(_logger, _key, e);
            }
        }
    }
}
