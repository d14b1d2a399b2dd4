using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>
/// Free space where a filesystem store writes (BACKUP_DIR): used percent against the disk thresholds, and
/// critical when the free space is smaller than the newest stored backup (the next one would not fit). A Blob
/// store has no disk to fill: not configured.
/// </summary>
public sealed class BackupDirSpaceCheck(BackupCatalog catalog, IOptions<BackupOptions> backup, IOptions<CheckOptions> options) : ICheck
{
    public string Name => "backup-dir-space";

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        if (backup.Value.Store != "filesystem")
        {
            return CheckResult.NotConfigured(Name, $"BACKUP_STORE is {backup.Value.Store}: no local disk to fill");
        }
        // The store creates BACKUP_DIR on first write: measure the disk of its nearest existing folder.
        var path = Path.GetFullPath(backup.Value.Directory);
        while (!Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
        {
            path = parent;
        }
        var drive = new DriveInfo(path);
        var (total, free) = (drive.TotalSize, drive.AvailableFreeSpace);
        if (total <= 0)
        {
            return CheckResult.NotConfigured(Name, $"the file system of {backup.Value.Directory} reports no size");
        }
        var used = 100.0 * (total - free) / total;
        var detail = $"BACKUP_DIR {backup.Value.Directory}: {CheckText.Bytes(free)} free of {CheckText.Bytes(total)} ({CheckText.Percent(used)} used)";
        var newest = (await catalog.ListAsync(ct)).FirstOrDefault(e => e.IsValid);
        if (newest is not null && free < newest.Data.Size)
        {
            return CheckResult.Finding(Name, NotificationSeverity.Critical,
                $"{detail}: less than the newest backup {newest.Name} ({CheckText.Bytes(newest.Data.Size)}), so the next one will not fit", Math.Round(used, 2), "percent");
        }
        return Threshold.Classify(Name, used, options.Value, detail);
    }
}
