namespace Floyo.Recovery.Backups;

/// <summary>Progress of a long copy: bytes read from the source, and bytes written to the store.</summary>
public sealed record TransferProgress(string Stage, long SourceBytes, long StoredBytes);
