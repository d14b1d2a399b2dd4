using Floyo.Recovery.Storage;
using Floyo.Recovery.Workflows.Activities;

namespace Floyo.Recovery.Checks;

/// <summary>
/// How long the app has been running against this store: its oldest workflow run record (<c>runs/</c>). The
/// "no backup at all" findings are armed only once that is longer than the limit, so a fresh deployment stays
/// quiet until its first scheduled backup had the chance to run (as the dead-man's switch in Azure Monitor does).
/// </summary>
public sealed class AppHistory(IBackupStore store)
{
    public async Task<DateTimeOffset?> FirstRunAsync(CancellationToken ct)
    {
        DateTimeOffset? first = null;
        await foreach (var run in store.ListAsync(RecordRunActivity.Prefix, ct))
        {
            if (first is null || run.LastModified < first)
            {
                first = run.LastModified;
            }
        }
        return first;
    }
}
