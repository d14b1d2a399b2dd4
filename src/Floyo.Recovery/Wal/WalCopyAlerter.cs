using Floyo.Recovery.Incidents;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Wal;

/// <summary>What one copy's run means for its incident: raise (<paramref name="Failed"/>) or resolve <paramref name="Key"/>.</summary>
public sealed record WalCopyIncident(string Key, bool Failed, NotificationSeverity Severity, string Title, string Text);

/// <summary>
/// One incident per further copy of the WAL archive (<c>wal-copy:secondary</c>, <c>wal-copy:tertiary</c>): a copy
/// that refused a file or could not be completed raises it (critical: while it lasts, losing the primary store
/// loses every transaction since the copy's newest segment, and the copy-lag finding would only say so 7 hours
/// later); that copy's next complete run resolves it. The 6-hourly incremental backup always applies it (both
/// engines, through the workflow's alert step); <c>floyo-dr wal copy</c> only with <c>--alert</c>, as
/// <c>floyo-dr check</c> does. A copy that is not configured has no result and so is neither.
/// </summary>
public sealed class WalCopyAlerter(IncidentAlerts alerts)
{
    public const string KeyPrefix = "wal-copy:";

    // The copy's location is kept (it names the store, without query or key); anything else URL- or key-like is redacted.
    private const string LocationToken = "\u0001copy\u0001";

    public static string KeyOf(BackupSource copy) => KeyPrefix + copy.ToString().ToLowerInvariant();

    /// <param name="during">Where the copy ran, for the text: "the incremental backup", "floyo-dr wal copy".</param>
    public static WalCopyIncident IncidentOf(WalCopyResult result, string during)
    {
        ArgumentNullException.ThrowIfNull(result);
        var which = BackupStores.Ordinal(result.Copy);
        var title = $"The WAL archive's {which} copy failed";
        if (result.Complete)
        {
            return new WalCopyIncident(KeyOf(result.Copy), false, NotificationSeverity.Critical, title,
                $"The {which} copy of the WAL archive ({result.Target}) is complete again ({during}): {result.WalFilesCopied} WAL files and {result.BaseBackupsCopied} base backups copied and verified, newest segment {result.NewestSegment ?? "none"}.");
        }
        var what = string.Join("; ", result.Conflicts.Select(c => "REFUSED: " + c).Concat(result.Problems).Take(3));
        var more = result.Conflicts.Count + result.Problems.Count > 3 ? $" (and {result.Conflicts.Count + result.Problems.Count - 3} more)" : "";
        var text = $"The {which} copy of the WAL archive ({result.Target}) is not complete after {during}: {result.Conflicts.Count} refused, {result.Problems.Count} failed: "
            + Scrub(what, result.Target) + more
            + $". The primary store still holds it all; until this is fixed a point-in-time recovery from this copy ends at segment {result.NewestSegment ?? "none (it holds no segment)"}."
            + " Fix the copy's store, then run 'floyo-dr wal copy --alert' (or wait for the next incremental backup): its next complete copy resolves this.";
        return new WalCopyIncident(KeyOf(result.Copy), true, NotificationSeverity.Critical, title, text);
    }

    /// <summary>Raises or resolves the incident of each copy that ran (the CLI's <c>wal copy --alert</c>; the workflows go through AlertActivity).</summary>
    public async Task<IReadOnlyList<AlertResult>> ApplyAsync(IReadOnlyList<WalCopyResult> results, string during, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(results);
        var actions = new List<AlertResult>();
        foreach (var incident in results.Select(r => IncidentOf(r, during)))
        {
            actions.Add(incident.Failed
                ? await alerts.RaiseAsync(incident.Key, incident.Severity, incident.Title, incident.Text, ct)
                : await alerts.ResolveAsync(incident.Key, incident.Text, ct));
        }
        return actions;
    }

    private static string Scrub(string text, string location) =>
        string.IsNullOrEmpty(location)
            ? IncidentText.Scrub(text)
            : IncidentText.Scrub(text.Replace(location, LocationToken, StringComparison.Ordinal)).Replace(LocationToken, location, StringComparison.Ordinal)
                .Replace("\u0001", "", StringComparison.Ordinal);
}
