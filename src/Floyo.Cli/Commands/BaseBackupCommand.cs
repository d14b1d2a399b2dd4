using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary><c>floyo-dr backup --base</c>: the starting point of point-in-time recovery, then copied with the WAL to every further copy (a copy that fails raises <c>wal-copy:&lt;copy&gt;</c>).</summary>
internal static class BaseBackupCommand
{
    public static Task<int> RunAsync(bool json, CancellationToken ct) => CliHost.RunAsync(async (services, token) =>
    {
        var meta = await services.GetRequiredService<BaseBackupRunner>().RunAsync(token);
        if (json)
        {
            Output.Json(meta);
        }
        else
        {
            Console.WriteLine($"base backup {meta.Name}: {Output.Size(meta.SizeBytes)} ({Output.Size(meta.TarBytes)} tar) in {meta.DurationSeconds:F1} s");
            Console.WriteLine($"WAL {meta.StartLsn} to {meta.StopLsn} on timeline {meta.Timeline}; recoverable from {PitrPlanner.Show(meta.StopTime)}");
            Console.WriteLine($"sha256 {meta.Sha256}");
        }
        // Then the further copies get it, and the WAL it needs, at once: a base backup that exists in one place only is a single point of failure.
        var copies = await services.GetRequiredService<WalCopier>().CopyToEveryCopyAsync(verify: false, token);
        // Each copy that ran raises or resolves wal-copy:<copy>, as the incremental does: one episode, one page, whichever command found it.
        await services.GetRequiredService<WalCopyAlerter>().ApplyAsync(copies, "'floyo-dr backup --base'", token);
        WalCommand.ReportCopies(copies, toStdout: !json, $"base backup {meta.Name}");
        return 0;
    }, ct);
}
