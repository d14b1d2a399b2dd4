using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Restores;

/// <param name="ChecksumProven">The whole object was hashed against its metadata just before (the restore workflow's own step), so it is not read twice.</param>
public sealed record StoredBackup(IBackupStore Store, BackupEntry Entry, IProgress<TransferProgress>? Progress = null, bool ChecksumProven = false);
