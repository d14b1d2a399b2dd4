namespace Floyo.Recovery.Secrets;

/// <summary>
/// Where credentials live: Key Vault in Azure, an owner-only file for floyo-dr. Every write creates a
/// new version; the current value is the newest version. Values never appear in messages or logs.
/// </summary>
public interface ISecretStore
{
    /// <summary>The vault or file, for messages (no credentials).</summary>
    string Location { get; }

    /// <summary>The newest version, or null when the secret does not exist. Throws when that version is disabled.</summary>
    Task<SecretValue?> GetCurrentAsync(string name, CancellationToken ct);

    /// <summary>One version, or null when it does not exist. Throws when it is disabled.</summary>
    Task<SecretValue?> GetVersionAsync(string name, string version, CancellationToken ct);

    /// <summary>Adds a new version, which becomes the current value.</summary>
    Task<SecretVersion> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, string? contentType, CancellationToken ct);

    /// <summary>Every version, newest first; empty when the secret does not exist.</summary>
    Task<IReadOnlyList<SecretVersion>> ListVersionsAsync(string name, CancellationToken ct);

    Task DisableVersionAsync(string name, string version, CancellationToken ct);

    /// <summary>Replaces one version's tags (Key Vault keeps tags per version).</summary>
    Task UpdateTagsAsync(string name, string version, IReadOnlyDictionary<string, string> tags, CancellationToken ct);

    /// <summary>
    /// Every secret whose current version carries the <see cref="SecretTags.Rotation"/> tag, with that version's
    /// properties. Key Vault's list does not name the version: <see cref="SecretVersion.Version"/> is then empty.
    /// </summary>
    Task<IReadOnlyList<SecretVersion>> ListTaggedForRotationAsync(CancellationToken ct);
}

/// <summary>A version's properties: everything but the value.</summary>
public sealed record SecretVersion(
    string Name,
    string Version,
    bool Enabled,
    DateTimeOffset CreatedOn,
    IReadOnlyDictionary<string, string> Tags,
    string? ContentType)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;
}

/// <summary>
/// A secret's value with its properties. Deliberately not a record: a record's generated ToString would
/// print the value into any log or assertion message that formats it.
/// </summary>
public sealed class SecretValue(SecretVersion properties, string value)
{
    public SecretVersion Properties { get; } = properties;

    public string Value { get; } = value;

    public override string ToString() => $"{Properties.Name}/{Properties.Version}";
}

/// <summary>Tags floyo-dr reads and writes. Key Vault keeps them per version.</summary>
public static class SecretTags
{
    /// <summary>Marks a secret for rotation; the value says how: <see cref="PostgresLogin"/> or <see cref="Random"/>.</summary>
    public const string Rotation = "floyo-rotation";

    public const string PostgresLogin = "postgres-login";

    public const string Random = "random";

    /// <summary>The PostgreSQL login role a database credential version belongs to.</summary>
    public const string Role = "floyo-role";

    public const string RotatedAt = "floyo-rotated-at";

    public const string RotationId = "floyo-rotation-id";

    /// <summary><see cref="StatePublished"/> until the previous version is retired, then <see cref="StateComplete"/>.</summary>
    public const string RotationState = "floyo-rotation-state";

    public const string StatePublished = "published";

    public const string StateComplete = "complete";

    /// <summary>Optional on random secrets: how many random bytes a new value has (default 32).</summary>
    public const string RandomBytes = "floyo-random-bytes";
}

/// <summary>Secret names both stores accept: Key Vault's rule, so a local setup moves to Azure unchanged.</summary>
public static class SecretName
{
    public static string Check(string name, string setting = "secret name")
    {
        if (string.IsNullOrEmpty(name) || name.Length > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ConfigurationException($"{setting} '{Printable(name)}' is not a valid secret name: use 1-127 letters, digits and '-'");
        }
        return name;
    }

    private static string Printable(string? name) => name is null ? "" : name.Length > 60 ? name[..60] + "..." : name;
}
