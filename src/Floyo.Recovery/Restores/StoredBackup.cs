using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Restores;

/// <param name="ChecksumProven">The whole object was hashed against its metadata just before (a step of its own), so it is not read twice before the server is touched; the stream is hashed again on its way in regardless.</param>
public sealed record StoredBackup(IBackupStore Store, BackupEntry Entry, IProgress<TransferProgress>? Progress = null, bool ChecksumProven = false);
