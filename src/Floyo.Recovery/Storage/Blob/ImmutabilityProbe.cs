using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Floyo.Recovery.Storage.Blob;

public sealed record ImmutabilityStep(string Check, bool Passed, string Detail);

/// <summary>What check-immutability found: WORM is enforced only when every step passed.</summary>
public sealed record ImmutabilityReport(string Location, string Mode, bool ContainerReportsVersionLevelWorm, IReadOnlyList<ImmutabilityStep> Steps)
{
    public bool Enforced => Steps.Count > 0 && Steps.All(s => s.Passed);

    /// <summary>Weaknesses that do not make WORM fail today (see <see cref="ImmutabilityFindings"/>).</summary>
    public IReadOnlyList<string> Findings { get; init; } = [];
}

/// <summary>
/// Proves, with a small hidden canary blob, whether the service really enforces write-once storage:
/// the policy must be visible on the canary, and overwriting and deleting it must both be refused.
/// The canary gets a short unlocked policy so it can be removed afterwards.
/// </summary>
public static class ImmutabilityProbe
{
    private static readonly TimeSpan CanaryRetention = TimeSpan.FromDays(1);

    public static async Task<ImmutabilityReport> CheckAsync(BlobStore store, TimeProvider clock, CancellationToken ct)
    {
        var container = store.Container;
        var steps = new List<ImmutabilityStep>();
        bool versionLevel;
        try
        {
            versionLevel = (await container.GetPropertiesAsync(conditions: null, ct)).Value.HasImmutableStorageWithVersioning;
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, store.Location);
        }
        var mode = store.Mode.ToString().ToLowerInvariant();
        if (store.Mode == ImmutabilityMode.Off)
        {
            steps.Add(new("BACKUP_IMMUTABILITY_MODE", false, "is 'off': floyo-dr writes backups without immutability policies"));
        }
        var canary = container.GetBlockBlobClient($"{BlobStore.HiddenPrefix}canary/{clock.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}");
        var policy = new BlobImmutabilityPolicy { ExpiresOn = clock.GetUtcNow().Add(CanaryRetention), PolicyMode = BlobImmutabilityPolicyMode.Unlocked };
        try
        {
            using (var content = new MemoryStream("canary"u8.ToArray(), writable: false))
            {
                await canary.UploadAsync(content, new BlobUploadOptions { ImmutabilityPolicy = policy, Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
            }
            steps.Add(await PolicyStepAsync(canary, policy, ct));
            steps.Add(await RefusedAsync("overwrite refused", async () =>
            {
                using var other = new MemoryStream("overwritten"u8.ToArray(), writable: false);
                await canary.UploadAsync(other, new BlobUploadOptions(), ct);
            }));
            steps.Add(await RefusedAsync("delete refused", () => canary.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, ct)));
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            throw BlobErrors.Map(e, store.Location, "the immutability canary");
        }
        finally
        {
            await RemoveAsync(canary);
        }
        return new ImmutabilityReport(store.Location, mode, versionLevel, steps) { Findings = ImmutabilityFindings.For(store.Mode, store.ServiceEndpoint, store.ModeSetting) };
    }

    /// <summary>The write-time check: can this container apply a version-level policy at all? (null failure: yes).</summary>
    internal static async Task<(RecoveryException? Failure, bool Applied)> TryApplyPolicyAsync(BlobStore store, CancellationToken ct)
    {
        var probe = store.Container.GetBlockBlobClient($"{BlobStore.HiddenPrefix}probe/{Guid.NewGuid():N}");
        var policy = new BlobImmutabilityPolicy { ExpiresOn = DateTimeOffset.UtcNow.Add(CanaryRetention), PolicyMode = BlobImmutabilityPolicyMode.Unlocked };
        try
        {
            using (var content = new MemoryStream([], writable: false))
            {
                await probe.UploadAsync(content, new BlobUploadOptions { ImmutabilityPolicy = policy }, ct);
            }
            var step = await PolicyStepAsync(probe, policy, ct);
            return step.Passed ? (null, true) : (step.Error ?? new RecoveryException($"the storage service at {store.Location} accepted an immutability policy but does not show it on the blob; nothing was kept"), false);
        }
        catch (RequestFailedException e) when (BlobErrors.IsNotImplemented(e))
        {
            return (store.NotSupported(e), false);
        }
        catch (Exception e) when (BlobErrors.IsStorageFailure(e))
        {
            return (BlobErrors.Map(e, store.Location, "the immutability probe"), false);
        }
        finally
        {
            await RemoveAsync(probe);
        }

        static async Task<(bool Passed, RecoveryException? Error)> PolicyStepAsync(BlockBlobClient blob, BlobImmutabilityPolicy policy, CancellationToken ct)
        {
            if ((await blob.GetPropertiesAsync(conditions: null, ct)).Value.ImmutabilityPolicy?.ExpiresOn is not null)
            {
                return (true, null);
            }
            await blob.SetImmutabilityPolicyAsync(policy, conditions: null, ct);
            return ((await blob.GetPropertiesAsync(conditions: null, ct)).Value.ImmutabilityPolicy?.ExpiresOn is not null, null);
        }
    }

    private static async Task<ImmutabilityStep> PolicyStepAsync(BlockBlobClient canary, BlobImmutabilityPolicy policy, CancellationToken ct)
    {
        if ((await canary.GetPropertiesAsync(conditions: null, ct)).Value.ImmutabilityPolicy?.ExpiresOn is { } applied)
        {
            return new("policy applied at write", true, $"the canary carries a version-level policy until {applied:u}");
        }
        try
        {
            await canary.SetImmutabilityPolicyAsync(policy, conditions: null, ct);
        }
        catch (RequestFailedException e) when (BlobErrors.IsNotImplemented(e))
        {
            return new("policy applied at write", false, $"the service ignored the policy headers and does not implement immutability policies (HTTP {e.Status} {e.ErrorCode}; Azurite has no WORM)");
        }
        catch (RequestFailedException e)
        {
            return new("policy applied at write", false, $"the service ignored the policy headers and refused an explicit policy (HTTP {e.Status} {e.ErrorCode}); the container needs version-level immutability");
        }
        return new("policy applied at write", false, "the service ignored the policy headers on upload (it accepted one set afterwards)");
    }

    private static async Task<ImmutabilityStep> RefusedAsync(string check, Func<Task> attempt)
    {
        try
        {
            await attempt();
            return new(check, false, "the service allowed it");
        }
        catch (RequestFailedException e) when (e.Status is 409 or 403 && e.ErrorCode?.StartsWith("BlobImmutable", StringComparison.Ordinal) == true)
        {
            return new(check, true, $"refused with HTTP {e.Status} {e.ErrorCode}");
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return new(check, true, $"refused with HTTP {e.Status} {e.ErrorCode}");
        }
    }

    /// <summary>Best effort: an unlocked policy can be removed, then the blob; a leftover expires within a day.</summary>
    private static async Task RemoveAsync(BlockBlobClient blob)
    {
        using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await blob.DeleteImmutabilityPolicyAsync(quick.Token);
        }
        catch (Exception)
        {
            // Absent, unsupported (Azurite) or locked: the delete below decides.
        }
        try
        {
            await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, quick.Token);
        }
        catch (Exception)
        {
            // A protected canary stays until its short policy expires; it is hidden from listings.
        }
    }
}
