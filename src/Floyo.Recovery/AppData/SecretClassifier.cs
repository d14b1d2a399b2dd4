using System.Text.RegularExpressions;

namespace Floyo.Recovery.AppData;

public enum SettingKind
{
    /// <summary>Exported with its value.</summary>
    Plain,

    /// <summary>Exported by name only.</summary>
    Secret,

    /// <summary>An App Service Key Vault reference: exported as the vault and secret it names, never resolved.</summary>
    KeyVaultReference,
}

public sealed record SettingClass(SettingKind Kind, string? Reason = null, string? Vault = null, string? SecretName = null);

/// <summary>
/// Decides which settings are secret. Conservative by design: a false alarm only hides a value from the
/// export, a miss leaks a credential into backup storage. A setting is secret when its name says so
/// (PASSWORD, SECRET, KEY, TOKEN, CONNECTION_STRING, ...), or its value looks like a credential
/// (a connection string with a key or password, a URL with a password or SAS signature, a JWT, a PEM
/// block, a long random-looking string). Key Vault references are reported as the secret they name.
/// </summary>
public static partial class SecretClassifier
{
    private static readonly string[] SecretNameParts =
    [
        "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "KEY", "TOKEN", "CONNECTION_STRING", "CONNECTIONSTRING", "CONNSTR",
        "CREDENTIAL", "SAS", "SIGNATURE", "PRIVATE", "CERTIFICATE", "PFX", "AUTH", "COOKIE", "SALT",
        // Incoming-webhook URLs (Slack and the like) carry their token in the path.
        "WEBHOOK",
    ];

    public static SettingClass Classify(string name, string? value)
    {
        if (value is not null && KeyVaultReference(value) is { } reference)
        {
            return reference;
        }
        var upper = name.ToUpperInvariant().Replace("__", "_", StringComparison.Ordinal).Replace(':', '_').Replace('.', '_');
        foreach (var part in SecretNameParts)
        {
            if (NameHasPart(upper, part))
            {
                return new SettingClass(SettingKind.Secret, $"name contains {part}");
            }
        }
        if (string.IsNullOrEmpty(value))
        {
            return new SettingClass(SettingKind.Plain);
        }
        return ValueLooksSecret(value) is { } why ? new SettingClass(SettingKind.Secret, why) : new SettingClass(SettingKind.Plain);
    }

    /// <summary>The reason a value looks like a credential, or null.</summary>
    public static string? ValueLooksSecret(string value)
    {
        if (CredentialPair().IsMatch(value))
        {
            return "value is a connection string with a key or password";
        }
        if (UrlPassword().IsMatch(value))
        {
            return "value is a URL with a password";
        }
        if (SasSignature().IsMatch(value))
        {
            return "value carries a SAS signature";
        }
        if (Jwt().IsMatch(value))
        {
            return "value is a bearer token";
        }
        if (value.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return "value is a PEM key or certificate";
        }
        if (RandomLooking(value.Trim()))
        {
            return "value looks like a generated key";
        }
        return null;
    }

    private static SettingClass? KeyVaultReference(string value)
    {
        var match = KeyVaultPattern().Match(value.Trim());
        if (!match.Success)
        {
            return null;
        }
        var body = match.Groups["body"].Value;
        if (SecretUri().Match(body) is { Success: true } uri)
        {
            return new SettingClass(SettingKind.KeyVaultReference, "Key Vault reference", uri.Groups["vault"].Value, uri.Groups["secret"].Value);
        }
        var parts = body.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        return new SettingClass(SettingKind.KeyVaultReference, "Key Vault reference", parts.GetValueOrDefault("VaultName"), parts.GetValueOrDefault("SecretName"));
    }

    /// <summary>
    /// Long parts match anywhere; short ones (KEY, SAS, AUTH...) at the start or end of a word, so API_KEY,
    /// ACCOUNTKEY and KEYVAULT_URI are secret (a false alarm only hides a value) but MONKEYPATCH is not.
    /// </summary>
    private static bool NameHasPart(string upper, string part) =>
        part.Length > 4
            ? upper.Contains(part, StringComparison.Ordinal)
            : upper.Split('_', StringSplitOptions.RemoveEmptyEntries).Any(word =>
                word.StartsWith(part, StringComparison.Ordinal) || word.EndsWith(part, StringComparison.Ordinal) || word.EndsWith(part + "S", StringComparison.Ordinal));

    /// <summary>20+ characters of base64/hex with letters and digits mixed and no spaces: generated, not written by a person.</summary>
    private static bool RandomLooking(string value)
    {
        if (value.Length < 20 || value.Length > 4096 || value.Contains(' ', StringComparison.Ordinal) || value.Contains("://", StringComparison.Ordinal))
        {
            return false;
        }
        if (!RandomAlphabet().IsMatch(value))
        {
            return false;
        }
        var digits = value.Count(char.IsAsciiDigit);
        var upper = value.Count(char.IsAsciiLetterUpper);
        var lower = value.Count(char.IsAsciiLetterLower);
        // Paths, host names, GUIDs and cron expressions are not secrets: require real mixing.
        var guid = Guid.TryParse(value, out _);
        return !guid && digits >= 3 && (upper >= 3 && lower >= 3 || value.Length >= 32 && digits + lower == value.Length && digits >= 8);
    }

    [GeneratedRegex(@"^@Microsoft\.KeyVault\((?<body>.*)\)$", RegexOptions.IgnoreCase)]
    private static partial Regex KeyVaultPattern();

    [GeneratedRegex(@"SecretUri\s*=\s*https://(?<vault>[^./]+)\.[^/]+/secrets/(?<secret>[^/;)\s]+)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretUri();

    [GeneratedRegex(@"(^|;)\s*(AccountKey|Password|Pwd|SharedAccessKey|SharedAccessSignature|ClientSecret|Secret|Token|ApiKey|Key)\s*=\s*[^;\s]", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialPair();

    [GeneratedRegex(@"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"[?&]sig=[^&\s]+", RegexOptions.IgnoreCase)]
    private static partial Regex SasSignature();

    [GeneratedRegex(@"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"^[A-Za-z0-9+/=_-]+$")]
    private static partial Regex RandomAlphabet();
}
