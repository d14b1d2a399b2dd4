namespace Floyo.Recovery.Storage.Blob;

/// <summary>
/// What check-immutability reports beyond pass/fail. An unlocked policy in production is one: Azure authorizes
/// Delete Blob Immutability Policy with the same permission as Set (blobs/immutableStorage/runAsSuperUser/action),
/// so whoever holds the app's identity, or an administrator, can remove it before it expires. Locked policies can
/// only be extended. "Production" is a store reached through its Azure endpoint with Entra ID (a service URI),
/// not a connection string (Azurite, a developer's account key).
/// </summary>
public static class ImmutabilityFindings
{
    public static IReadOnlyList<string> For(ImmutabilityMode mode, bool serviceEndpoint, string modeSetting = "BACKUP_IMMUTABILITY_MODE") =>
        mode == ImmutabilityMode.Unlocked && serviceEndpoint
            ? [$"{modeSetting}=unlocked in production: each backup's policy can be shortened or removed by anyone holding the app's identity or Storage Blob Data Owner (Azure grants setting and deleting a policy with one permission); set {modeSetting}=locked once a test restore has passed"]
            : [];
}
