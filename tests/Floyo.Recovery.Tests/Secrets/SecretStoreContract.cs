using Floyo.Recovery.Secrets;

namespace Floyo.Recovery.Tests.Secrets;

/// <summary>What every secret store must do, run against the Key Vault driver (real SDK, fake vault) and the file driver.</summary>
public abstract class SecretStoreContract
{
    protected abstract ISecretStore CreateStore();

    private static readonly Dictionary<string, string> NoTags = new();

    [Fact]
    public async Task A_missing_secret_has_no_current_value_and_no_versions()
    {
        var store = CreateStore();
        Assert.Null(await store.GetCurrentAsync("missing-secret", default));
        Assert.Null(await store.GetVersionAsync("missing-secret", "0123456789abcdef0123456789abcdef", default));
        Assert.Empty(await store.ListVersionsAsync("missing-secret", default));
    }

    [Fact]
    public async Task Every_set_adds_a_version_and_the_newest_is_current()
    {
        var store = CreateStore();
        var v1 = await store.SetAsync("app-db", "first", new Dictionary<string, string> { ["floyo-role"] = "blue" }, "application/json", default);
        await Task.Delay(1100); // Key Vault timestamps have one-second resolution; keep the versions apart.
        var v2 = await store.SetAsync("app-db", "second", new Dictionary<string, string> { ["floyo-role"] = "green" }, "application/json", default);
        var v3 = await store.SetAsync("app-db", "third", NoTags, null, default);

        var current = await store.GetCurrentAsync("app-db", default);
        Assert.Equal("third", current!.Value);
        Assert.Equal(v3.Version, current.Properties.Version);
        Assert.Equal("first", (await store.GetVersionAsync("app-db", v1.Version, default))!.Value);
        var second = await store.GetVersionAsync("app-db", v2.Version, default);
        Assert.Equal("second", second!.Value);
        Assert.Equal("green", second.Properties.Tag("floyo-role"));
        Assert.Equal("application/json", second.Properties.ContentType);

        var versions = await store.ListVersionsAsync("app-db", default);
        Assert.Equal(3, versions.Count);
        Assert.Equal(new[] { v1.Version, v2.Version, v3.Version }.Order(), versions.Select(v => v.Version).Order());
        Assert.Equal(v1.Version, versions[^1].Version);
        Assert.All(versions, v => Assert.True(v.Enabled));
    }

    [Fact]
    public async Task A_disabled_version_cannot_be_read_but_the_others_can()
    {
        var store = CreateStore();
        var old = await store.SetAsync("api-key", "old-value", NoTags, null, default);
        var current = await store.SetAsync("api-key", "new-value", NoTags, null, default);
        await store.DisableVersionAsync("api-key", old.Version, default);

        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.GetVersionAsync("api-key", old.Version, default));
        Assert.Contains("disabled", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("old-value", error.Message, StringComparison.Ordinal);
        Assert.Equal("new-value", (await store.GetCurrentAsync("api-key", default))!.Value);
        var versions = await store.ListVersionsAsync("api-key", default);
        Assert.False(versions.Single(v => v.Version == old.Version).Enabled);
        Assert.True(versions.Single(v => v.Version == current.Version).Enabled);
    }

    [Fact]
    public async Task Tags_are_kept_per_version_and_can_be_replaced()
    {
        var store = CreateStore();
        var v1 = await store.SetAsync("tagged", "a", new Dictionary<string, string> { ["floyo-rotation"] = "random", ["owner"] = "web" }, null, default);
        var v2 = await store.SetAsync("tagged", "b", new Dictionary<string, string> { ["floyo-rotation"] = "random" }, null, default);
        await store.UpdateTagsAsync("tagged", v2.Version, new Dictionary<string, string> { ["floyo-rotation"] = "random", ["floyo-rotation-state"] = "complete" }, default);

        var versions = await store.ListVersionsAsync("tagged", default);
        Assert.Equal("web", versions.Single(v => v.Version == v1.Version).Tag("owner"));
        Assert.Equal("complete", versions.Single(v => v.Version == v2.Version).Tag("floyo-rotation-state"));
        Assert.Equal("b", (await store.GetCurrentAsync("tagged", default))!.Value);
    }

    [Fact]
    public async Task Secrets_tagged_for_rotation_are_listed_by_their_current_version()
    {
        var store = CreateStore();
        await store.SetAsync("session-key", "s1", new Dictionary<string, string> { ["floyo-rotation"] = "random" }, null, default);
        await store.SetAsync("not-rotated", "x", new Dictionary<string, string> { ["owner"] = "web" }, null, default);
        // Tagged once, untagged by its newest version: no longer rotated.
        await store.SetAsync("was-rotated", "y1", new Dictionary<string, string> { ["floyo-rotation"] = "random" }, null, default);
        await store.SetAsync("was-rotated", "y2", NoTags, null, default);
        await store.SetAsync("webhook-token", "w", new Dictionary<string, string> { ["floyo-rotation"] = "random", ["owner"] = "hooks" }, null, default);

        var tagged = await store.ListTaggedForRotationAsync(default);
        Assert.Equal(["session-key", "webhook-token"], tagged.Select(t => t.Name));
        Assert.Equal("hooks", tagged[1].Tag("owner"));
    }

    [Fact]
    public async Task Invalid_names_are_refused_with_one_line()
    {
        var store = CreateStore();
        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.SetAsync("../etc/passwd", "v", NoTags, null, default));
        Assert.Contains("not a valid secret name", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Secret_values_do_not_print_themselves()
    {
        var value = new SecretValue(new SecretVersion("n", "v1", true, DateTimeOffset.UnixEpoch, new Dictionary<string, string>(), null), "hunter2-secret");
        Assert.DoesNotContain("hunter2", value.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", new DatabaseCredential("u", "hunter2-secret").ToString(), StringComparison.Ordinal);
    }
}

public sealed class KeyVaultSecretStoreContractTests : SecretStoreContract
{
    protected override ISecretStore CreateStore() => new FakeKeyVault().Store();
}

public sealed class FileSecretStoreContractTests : SecretStoreContract, IDisposable
{
    private readonly Support.TempDirectory _dir = new();

    protected override ISecretStore CreateStore() => new FileSecretStore(Path.Combine(_dir.Path, $"{Guid.NewGuid():N}", "secrets.json"), TimeProvider.System);

    public void Dispose() => _dir.Dispose();
}
