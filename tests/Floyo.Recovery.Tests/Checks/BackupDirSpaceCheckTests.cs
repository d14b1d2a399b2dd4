using Floyo.Recovery.Checks;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Checks;

/// <summary>BACKUP_DIR's real file system, held to thresholds chosen around its real usage.</summary>
[Trait("Tier", "Fast")]
public sealed class BackupDirSpaceCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<CheckResult> RunAsync(string warning, string critical, string store = "filesystem")
    {
        await using var engine = Engine.Create(new Dictionary<string, string?>
        {
            ["BACKUP_STORE"] = store,
            ["BACKUP_BLOB_CONNECTION_STRING"] = store == "blob" ? "UseDevelopmentStorage=true" : null,
            // Not created yet: the check measures the nearest folder that exists.
            ["BACKUP_DIR"] = Path.Combine(_dir.Path, "not", "yet"),
            ["CHECK_DISK_WARNING_PERCENT"] = warning,
            ["CHECK_DISK_CRITICAL_PERCENT"] = critical,
        });
        return await engine.GetServices<ICheck>().Single(c => c.Name == "backup-dir-space").RunAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Used_space_over_the_thresholds_is_a_warning_then_critical()
    {
        var drive = new DriveInfo(_dir.Path);
        var used = 100.0 * (drive.TotalSize - drive.AvailableFreeSpace) / drive.TotalSize;
        Assert.InRange(used, 0.01, 99.9); // the thresholds below straddle it

        var ok = await RunAsync((used + (100 - used) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), "100");
        var warning = await RunAsync((used / 4).ToString(System.Globalization.CultureInfo.InvariantCulture), "100");
        var critical = await RunAsync((used / 4).ToString(System.Globalization.CultureInfo.InvariantCulture), (used / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(CheckStatus.Ok, ok.Status);
        Assert.InRange(ok.Value!.Value, used - 1, used + 1);
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Warning), (warning.Status, warning.Severity!.Value));
        Assert.Contains("CHECK_DISK_WARNING_PERCENT", warning.Detail, StringComparison.Ordinal);
        Assert.Equal((CheckStatus.Finding, NotificationSeverity.Critical), (critical.Status, critical.Severity!.Value));
        Assert.Contains("CHECK_DISK_CRITICAL_PERCENT", critical.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_store_has_no_disk_to_fill()
    {
        var result = await RunAsync("80", "90", store: "blob");
        Assert.Equal(CheckStatus.NotConfigured, result.Status);
    }
}
