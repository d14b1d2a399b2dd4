using System.Globalization;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Checks;

/// <summary>
/// The further copies' WAL lag (<see cref="WalCopyLagProbe"/>) on the 15-minute timer: a copy that is never fed
/// (the incremental timer not running, a copy store configured later) fails no copy run, so without this check it
/// would show only as lag in <c>list</c>, <c>/api/health</c> and the drills, and never page. A copy lacking WAL
/// the primary has held for longer than WAL_COPY_MAX_LAG_MINUTES is critical (a data-centre outage would lose
/// it); a copy whose store cannot be read is a warning (the check cannot vouch for it, and the next copy run
/// raises <c>wal-copy:&lt;copy&gt;</c> if it cannot write either). A copy whose <c>wal-copy:&lt;copy&gt;</c> incident
/// is already open (its last run failed) is reported as a warning naming that incident: one episode pages once.
/// Not configured without a further copy, or without a base backup (no WAL archiving: the copies hold dumps only).
/// </summary>
public sealed class WalCopiesCheck(BackupStores stores, BaseBackupCatalog bases, WalCopyLagProbe probe, IncidentAlerts alerts, IOptions<WalOptions> wal) : ICheck
{
    public string Name => "wal-copies";

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        if (!BackupStores.Copies.Any(stores.Has))
        {
            return CheckResult.NotConfigured(Name, "no further copy is configured (BACKUP_SECONDARY_STORE, BACKUP_TERTIARY_STORE)");
        }
        if ((await bases.ListAsync(ct)).Count == 0)
        {
            return CheckResult.NotConfigured(Name, $"no base backup in {stores.Primary.Location}: WAL archiving is not in place, so the copies have no WAL to trail");
        }
        var states = (await probe.StatesAsync(ct)).Where(s => s.Finding is not null || s.Store is not null).ToList();
        var limit = wal.Value.CopyMaxLagMinutes;
        var worst = states.Max(s => s.BehindSeconds) ?? 0;
        var problems = states.Where(s => s.Finding is not null).ToList();
        if (problems.Count == 0)
        {
            return CheckResult.Ok(Name, $"{string.Join("; ", states.Select(Describe))} (WAL_COPY_MAX_LAG_MINUTES {limit})", worst, "s");
        }
        var open = (await alerts.ListOpenAsync(ct)).Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
        var severity = NotificationSeverity.Warning;
        var details = new List<string>();
        foreach (var state in problems)
        {
            var key = WalCopyAlerter.KeyOf(state.Copy);
            if (open.Contains(key))
            {
                details.Add($"{state.Finding} (already open as incident {key})");
            }
            else
            {
                details.Add(state.Finding!);
                if (state.State == "lagging")
                {
                    severity = NotificationSeverity.Critical;
                }
            }
        }
        return CheckResult.Finding(Name, severity, string.Join("; ", details), worst, "s");
    }

    private static string Describe(WalCopyState state) => state.State switch
    {
        "behind" => string.Create(CultureInfo.InvariantCulture, $"the {BackupStores.Ordinal(state.Copy)} copy ({state.Store}) is behind by {CheckText.Duration(TimeSpan.FromSeconds(state.BehindSeconds ?? 0))}"),
        _ => $"the {BackupStores.Ordinal(state.Copy)} copy ({state.Store}) is {state.State}, newest segment {state.NewestSegment ?? "none"}",
    };
}
