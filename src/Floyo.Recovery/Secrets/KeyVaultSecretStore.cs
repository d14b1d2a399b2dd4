using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;

namespace Floyo.Recovery.Secrets;

/// <summary>
/// Azure Key Vault through the SDK's <see cref="SecretClient"/>. Failures become one-line messages that
/// name the vault, the secret and what the identity lacks; Azure's own messages (multi-line, sometimes
/// echoing the request) are not passed on.
/// </summary>
public sealed class KeyVaultSecretStore(SecretClient client) : ISecretStore
{
    public static KeyVaultSecretStore Create(Uri vault, TokenCredential? credential = null, SecretClientOptions? options = null) =>
        new(new SecretClient(vault, credential ?? new DefaultAzureCredential(), options ?? new SecretClientOptions()));

    public string Location => $"key vault {client.VaultUri}";

    public Task<SecretValue?> GetCurrentAsync(string name, CancellationToken ct) => GetAsync(name, null, ct);

    public Task<SecretValue?> GetVersionAsync(string name, string version, CancellationToken ct) => GetAsync(name, version, ct);

    public async Task<SecretVersion> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, string? contentType, CancellationToken ct)
    {
        SecretName.Check(name);
        var secret = new KeyVaultSecret(name, value);
        secret.Properties.ContentType = contentType;
        secret.Properties.Enabled = true;
        foreach (var (key, tag) in tags)
        {
            secret.Properties.Tags[key] = tag;
        }
        var stored = await CallAsync(name, "set", () => client.SetSecretAsync(secret, ct));
        return Describe(stored.Value.Properties);
    }

    public async Task<IReadOnlyList<SecretVersion>> ListVersionsAsync(string name, CancellationToken ct)
    {
        SecretName.Check(name);
        var result = new List<SecretVersion>();
        try
        {
            await foreach (var properties in client.GetPropertiesOfSecretVersionsAsync(name, ct))
            {
                result.Add(Describe(properties));
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Explain(e, name, "list versions of");
        }
        // Key Vault returns versions in no promised order; callers want newest first.
        return [.. result.OrderByDescending(v => v.CreatedOn).ThenByDescending(v => v.Version, StringComparer.Ordinal)];
    }

    public Task DisableVersionAsync(string name, string version, CancellationToken ct) =>
        UpdateAsync(name, version, p => p.Enabled = false, "disable", ct);

    public Task UpdateTagsAsync(string name, string version, IReadOnlyDictionary<string, string> tags, CancellationToken ct) =>
        UpdateAsync(name, version, p =>
        {
            p.Tags.Clear();
            foreach (var (key, value) in tags)
            {
                p.Tags[key] = value;
            }
        }, "tag", ct);

    public async Task<IReadOnlyList<SecretVersion>> ListTaggedForRotationAsync(CancellationToken ct)
    {
        var result = new List<SecretVersion>();
        try
        {
            // The list shows each secret's current version, tags included; no values are fetched.
            await foreach (var properties in client.GetPropertiesOfSecretsAsync(ct))
            {
                if (properties.Tags.ContainsKey(SecretTags.Rotation) && properties.Managed != true)
                {
                    result.Add(Describe(properties));
                }
            }
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Explain(e, null, "list");
        }
        return [.. result.OrderBy(v => v.Name, StringComparer.Ordinal)];
    }

    private async Task<SecretValue?> GetAsync(string name, string? version, CancellationToken ct)
    {
        SecretName.Check(name);
        try
        {
            var response = await client.GetSecretAsync(name, version, ct);
            return new SecretValue(Describe(response.Value.Properties), response.Value.Value);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 403 && IsDisabled(e))
        {
            throw new RecoveryException($"secret '{name}'{(version is null ? "" : $" version {version}")} in {client.VaultUri} is disabled", e);
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Explain(e, name, "read");
        }
    }

    private async Task UpdateAsync(string name, string version, Action<SecretProperties> change, string verb, CancellationToken ct)
    {
        SecretName.Check(name);
        // The properties as listed carry the version's id; updating them touches that version only.
        SecretProperties? properties = null;
        try
        {
            await foreach (var item in client.GetPropertiesOfSecretVersionsAsync(name, ct))
            {
                if (item.Version == version)
                {
                    properties = item;
                    break;
                }
            }
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Explain(e, name, verb);
        }
        if (properties is null)
        {
            throw new NotFoundException($"secret '{name}' has no version {version} in {client.VaultUri}");
        }
        change(properties);
        await CallAsync(name, verb, () => client.UpdateSecretPropertiesAsync(properties, ct));
    }

    private async Task<Response<T>> CallAsync<T>(string name, string verb, Func<Task<Response<T>>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Explain(e, name, verb);
        }
    }

    private static bool IsDisabled(RequestFailedException e) =>
        e.Message.Contains("SecretDisabled", StringComparison.Ordinal) || e.Message.Contains("disabled", StringComparison.OrdinalIgnoreCase);

    private RecoveryException Explain(Exception e, string? name, string verb)
    {
        var what = name is null ? "secrets" : $"secret '{name}'";
        return e switch
        {
            RequestFailedException { Status: 401 or 403 } r => new ConfigurationException(
                $"{client.VaultUri} refused to {verb} {what} ({r.Status} {r.ErrorCode}): give this identity the 'Key Vault Secrets Officer' role (rotation) or 'Key Vault Secrets User' (read only)", e),
            RequestFailedException { Status: 0 } => new UnavailableException($"cannot reach Key Vault {client.VaultUri}: {FirstLine(e.Message)}", e),
            RequestFailedException r => new RecoveryException($"Key Vault {client.VaultUri} failed to {verb} {what}: {r.Status} {r.ErrorCode}", e),
            _ => new ConfigurationException($"no Azure credential for Key Vault {client.VaultUri} ({e.GetType().Name}): sign in (az login) or give the app a managed identity", e),
        };
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return line.Length > 200 ? line[..200] + "..." : line;
    }

    private static SecretVersion Describe(SecretProperties p) => new(
        p.Name,
        p.Version ?? "",
        p.Enabled ?? true,
        p.CreatedOn ?? DateTimeOffset.MinValue,
        new Dictionary<string, string>(p.Tags, StringComparer.Ordinal),
        p.ContentType);
}
