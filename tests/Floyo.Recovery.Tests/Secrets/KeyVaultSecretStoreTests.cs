using Floyo.Recovery.Secrets;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Secrets;

/// <summary>Key Vault specifics: the bearer challenge, paging, and how refusals are reported.</summary>
[Trait("Tier", "Fast")]
public sealed class KeyVaultSecretStoreTests
{
    [Fact]
    public async Task The_client_answers_the_bearer_challenge_with_a_token_for_the_vault_resource()
    {
        var vault = new FakeKeyVault();
        var store = vault.Store();
        await store.SetAsync("app-db", "value-1", new Dictionary<string, string>(), null, default);

        Assert.True(vault.ChallengesSent >= 1, "the first request must be challenged");
        Assert.True(vault.AuthorizedRequests >= 1);
        var request = Assert.Single(vault.Credential.Requests.DistinctBy(r => string.Join(" ", r.Scopes)));
        Assert.Equal(["https://vault.azure.net/.default"], request.Scopes);
        Assert.Equal("tenant", request.TenantId);
        Assert.Equal("value-1", (await store.GetCurrentAsync("app-db", default))!.Value);
    }

    [Fact]
    public async Task Versions_beyond_one_page_are_all_listed()
    {
        var vault = new FakeKeyVault { PageSize = 2 };
        var store = vault.Store();
        var written = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            written.Add((await store.SetAsync("paged", $"v{i}", new Dictionary<string, string>(), null, default)).Version);
        }
        var listed = await store.ListVersionsAsync("paged", default);
        Assert.Equal(written.Order(), listed.Select(v => v.Version).Order());
        Assert.Contains(vault.Requests, r => r.EndsWith("/secrets/paged/versions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_vault_that_refuses_the_identity_gives_one_line_naming_the_role_to_grant()
    {
        var vault = new FakeKeyVault();
        var store = vault.Store();
        await store.SetAsync("app-db", "very-secret-value", new Dictionary<string, string>(), null, default);
        vault.DenyAll = true;

        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => store.GetCurrentAsync("app-db", default));
        Assert.Contains("refused to read secret 'app-db' (403", error.Message, StringComparison.Ordinal);
        Assert.Contains("Key Vault Secrets", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain("very-secret-value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_https_vault_addresses_are_accepted_at_start_up()
    {
        var settings = new Dictionary<string, string?> { ["SECRET_STORE"] = "keyvault", ["KEY_VAULT_URI"] = "http://floyo.vault.azure.net/" };
        using var engine = Support.Engine.Create(settings);
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => engine.GetRequiredService<Microsoft.Extensions.Options.IOptions<Configuration.SecretOptions>>().Value);
        Assert.Contains("KEY_VAULT_URI must be an https://", error.Message, StringComparison.Ordinal);
    }
}
