namespace Floyo.Recovery.Storage;

/// <summary>Where backups (or their secondary copies) are kept: BACKUP_STORE, BACKUP_SECONDARY_STORE.</summary>
public enum StoreKind
{
    /// <summary>No store: only a secondary store may be absent.</summary>
    None,
    Filesystem,
    Blob,
}

/// <summary>The one reading of a store setting's words; options validation rejects anything it does not know.</summary>
public static class StoreKinds
{
    public static StoreKind? Parse(string? setting) => setting switch
    {
        "filesystem" => StoreKind.Filesystem,
        "blob" => StoreKind.Blob,
        "none" or "" or null => StoreKind.None,
        _ => null,
    };

    /// <summary>The setting's word for a kind, as settings and stored wrappers spell it.</summary>
    public static string Word(StoreKind kind) => kind switch
    {
        StoreKind.Filesystem => "filesystem",
        StoreKind.Blob => "blob",
        _ => "none",
    };
}
