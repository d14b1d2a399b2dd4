using Azure;
using Azure.Identity;

namespace Floyo.Recovery.Storage.Blob;

/// <summary>Turns the SDK's multi-line failures into the one-line, secret-free messages an operator can act on.</summary>
internal static class BlobErrors
{
    public static bool IsNotImplemented(RequestFailedException e) =>
        e.Status == 501 || e.ErrorCode is "APINotImplemented" or "FeatureNotSupported";

    public static bool IsProtected(RequestFailedException e, out string why)
    {
        why = e.ErrorCode switch
        {
            "BlobImmutableDueToPolicy" => "immutability policy",
            "BlobImmutableDueToLegalHold" => "legal hold",
            "BlobImmutableDueToPolicyAndLegalHold" or "BlobImmutableDueToLegalHoldAndPolicy" => "immutability policy and legal hold",
            _ => "",
        };
        return e.Status == 409 && why.Length > 0;
    }

    public static RecoveryException Map(Exception e, string location, string? what = null)
    {
        var subject = what is null ? location : $"{what} in {location}";
        return e switch
        {
            RecoveryException recovery => recovery,
            RequestFailedException { Status: 403 } r =>
                new ConfigurationException($"access to {location} was denied (HTTP 403 {r.ErrorCode}){(what is null ? "" : $" on {what}")}: check the account key / connection string, or the managed identity's role on the container ('Storage Blob Data Owner': index tags and immutability need more than Contributor; BACKUP_BLOB_INDEX_TAGS=false writes without tags)", e),
            RequestFailedException { Status: 401 } r =>
                new ConfigurationException($"{location} refused our credentials (HTTP 401 {r.ErrorCode})", e),
            RequestFailedException { ErrorCode: "ContainerNotFound" } =>
                new NotFoundException($"the container {location} does not exist", e),
            RequestFailedException r when IsNotImplemented(r) =>
                new RecoveryException($"the storage service at {location} does not implement this operation (HTTP {r.Status} {r.ErrorCode}); Azurite has no immutability or legal hold", e),
            RequestFailedException { Status: 0 } r =>
                new UnavailableException($"cannot reach blob storage at {location}: {FirstLine(r.InnerException?.Message ?? r.Message)}", e),
            RequestFailedException r =>
                new RecoveryException($"blob storage failed on {subject}: HTTP {r.Status} {r.ErrorCode ?? FirstLine(r.Message)}", e),
            AuthenticationFailedException or CredentialUnavailableException =>
                new ConfigurationException($"no Azure credential could be obtained for {location} (DefaultAzureCredential: {FirstLine(e.Message)}); in Azure give the app a managed identity, locally use a connection string", e),
            AggregateException { InnerExceptions.Count: > 0 } a => Map(a.InnerExceptions[^1], location, what),
            IOException or TimeoutException or HttpRequestException =>
                new UnavailableException($"the connection to blob storage at {location} failed: {FirstLine(e.Message)}", e),
            _ => new RecoveryException($"blob storage failed on {subject}: {FirstLine(e.Message)}", e),
        };
    }

    public static bool IsStorageFailure(Exception e) =>
        e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException or AggregateException or IOException or TimeoutException or HttpRequestException;

    private static string FirstLine(string message)
    {
        var line = message.ReplaceLineEndings("\n").Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }
}
