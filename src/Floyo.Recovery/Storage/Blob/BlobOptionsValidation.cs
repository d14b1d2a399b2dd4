using Floyo.Recovery.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>Start-up checks for the Blob settings; only enforced where the Blob store is actually selected.</summary>
internal sealed class BlobStoreOptionsValidator(IOptions<BackupOptions> backup) : IValidateOptions<BlobStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, BlobStoreOptions options)
    {
        var failures = new List<string>();
        if (!ImmutabilityModes.IsValid(options.ImmutabilityMode))
        {
            failures.Add($"BACKUP_IMMUTABILITY_MODE must be 'unlocked', 'locked' or 'off', not '{options.ImmutabilityMode}'");
        }
        if (options.BlockSizeMiB is < 1 or > 100)
        {
            failures.Add("BACKUP_BLOB_BLOCK_SIZE_MB must be between 1 and 100");
        }
        if (options.UploadParallelism is < 1 or > 32)
        {
            failures.Add("BACKUP_BLOB_UPLOAD_PARALLELISM must be between 1 and 32");
        }
        if (StoreKinds.Parse(backup.Value.Store) == StoreKind.Blob)
        {
            failures.AddRange(BlobSettingsCheck.Endpoint("BACKUP_BLOB", options.ServiceUri, options.ConnectionString, options.Container));
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The same rules for every further copy, naming that copy's settings.</summary>
internal sealed class CopyStoreOptionsValidator<T> : IValidateOptions<T>
    where T : class, ICopyStoreOptions
{
    public ValidateOptionsResult Validate(string? name, T copy)
    {
        var failures = new List<string>();
        var options = copy.Settings();
        var prefix = options.Prefix;
        switch (options.Kind)
        {
            case StoreKind.None:
                break;
            case StoreKind.Filesystem:
                if (string.IsNullOrWhiteSpace(options.Directory))
                {
                    failures.Add($"{prefix}_STORE=filesystem needs {prefix}_DIR");
                }
                break;
            case StoreKind.Blob:
                failures.AddRange(BlobSettingsCheck.Endpoint($"{prefix}_BLOB", options.ServiceUri, options.ConnectionString, options.Container));
                if (options.ImmutabilityMode is not null && !ImmutabilityModes.IsValid(options.ImmutabilityMode))
                {
                    failures.Add($"{prefix}_IMMUTABILITY_MODE must be 'unlocked', 'locked' or 'off', not '{options.ImmutabilityMode}'");
                }
                break;
            default:
                failures.Add($"{prefix}_STORE must be 'none', 'filesystem' or 'blob', not '{options.Store}'");
                break;
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class BlobSettingsCheck
{
    /// <summary>Checks shape only; never echoes a connection string (it holds the account key).</summary>
    public static IEnumerable<string> Endpoint(string prefix, string? serviceUri, string? connectionString, string container)
    {
        if (string.IsNullOrWhiteSpace(serviceUri) && string.IsNullOrWhiteSpace(connectionString))
        {
            yield return $"{prefix}_SERVICE_URI (managed identity) or {prefix}_CONNECTION_STRING must be set";
        }
        if (!string.IsNullOrWhiteSpace(serviceUri) && string.IsNullOrWhiteSpace(connectionString)
            && (!Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.Query)))
        {
            yield return $"{prefix}_SERVICE_URI must be an https:// URI without a query string, e.g. https://<account>.blob.core.windows.net";
        }
        if (!ContainerName.IsValid(container))
        {
            yield return $"container name '{container}' is not valid: 3-63 lowercase letters, digits and single hyphens";
        }
    }
}

public static class ContainerName
{
    public static bool IsValid(string? name) =>
        name is { Length: >= 3 and <= 63 }
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && !name.Contains("--", StringComparison.Ordinal);
}
