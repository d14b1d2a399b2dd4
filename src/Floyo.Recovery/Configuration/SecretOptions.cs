using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>Where credentials are kept and which of them the engine reads.</summary>
public sealed class SecretOptions
{
    /// <summary><c>auto</c> (Key Vault when KEY_VAULT_URI is set, else the file), <c>keyvault</c> or <c>file</c>.</summary>
    [ConfigurationKeyName("SECRET_STORE")]
    public string Store { get; set; } = "auto";

    /// <summary>https://&lt;name&gt;.vault.azure.net/</summary>
    [ConfigurationKeyName("KEY_VAULT_URI")]
    public string? KeyVaultUri { get; set; }

    /// <summary>The local store; ~/.config/floyo-dr/secrets.json when unset.</summary>
    [ConfigurationKeyName("FLOYO_SECRETS_FILE")]
    public string? SecretsFile { get; set; }

    /// <summary>Secret holding DATABASE_URL's password, used when DATABASE_URL carries none.</summary>
    [ConfigurationKeyName("DATABASE_PASSWORD_SECRET")]
    public string? DatabasePasswordSecret { get; set; }

    /// <summary>Secret holding VERIFY_DATABASE_URL's password, used when it carries none.</summary>
    [ConfigurationKeyName("VERIFY_DATABASE_PASSWORD_SECRET")]
    public string? VerifyDatabasePasswordSecret { get; set; }

    public string ResolvedStore => Store == "auto" ? (string.IsNullOrWhiteSpace(KeyVaultUri) ? "file" : "keyvault") : Store;

    public string ResolvedSecretsFile => string.IsNullOrWhiteSpace(SecretsFile)
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "floyo-dr", "secrets.json")
        : SecretsFile;
}

internal sealed class SecretOptionsValidator : IValidateOptions<SecretOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretOptions options)
    {
        var failures = new List<string>();
        if (options.Store is not ("auto" or "file" or "keyvault"))
        {
            failures.Add($"SECRET_STORE must be 'auto', 'file' or 'keyvault', not '{options.Store}'");
        }
        if (options.ResolvedStore == "keyvault")
        {
            if (string.IsNullOrWhiteSpace(options.KeyVaultUri))
            {
                failures.Add("SECRET_STORE is 'keyvault' but KEY_VAULT_URI is not set");
            }
            else if (!Uri.TryCreate(options.KeyVaultUri, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                failures.Add("KEY_VAULT_URI must be an https:// vault address, e.g. https://floyo-kv.vault.azure.net/");
            }
        }
        foreach (var (key, value) in new[] { ("DATABASE_PASSWORD_SECRET", options.DatabasePasswordSecret), ("VERIFY_DATABASE_PASSWORD_SECRET", options.VerifyDatabasePasswordSecret) })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                try
                {
                    SecretName.Check(value, key);
                }
                catch (RecoveryException e)
                {
                    failures.Add(e.Message);
                }
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
