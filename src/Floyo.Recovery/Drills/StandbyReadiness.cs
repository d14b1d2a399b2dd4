using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Secondary;

namespace Floyo.Recovery.Drills;

/// <summary>
/// The data-centre drill's first question: could the standby take over? The second copy (and the third, when
/// configured) is reachable and holds the primary's newest good backup, and pg_dump, pg_restore and
/// pg_basebackup are present and at least the major of the server the standby would restore onto (staging
/// stands in for it). Every finding is collected, so one run names everything that is missing.
/// </summary>
public sealed class StandbyReadiness(BackupStores stores, CopyStatusReader copies, ClientToolCheck tools, StagingServer staging)
{
    /// <summary>A one-line account of what was checked; throws naming every finding when the standby is not ready.</summary>
    public async Task<string> CheckAsync(CancellationToken ct)
    {
        var findings = new List<string>();
        var checkedItems = new List<string>();

        // The reference: the primary's newest good backup. In a real outage the primary cannot be read; then each
        // copy need only hold a good backup of its own.
        BackupEntry? newest = null;
        try
        {
            newest = await new BackupCatalog(stores.Primary).LatestGoodAsync(null, ct);
        }
        catch (RecoveryException e)
        {
            checkedItems.Add($"primary unreadable ({e.Message}): copies checked on their own");
        }

        foreach (var copy in BackupStores.Copies)
        {
            var which = BackupStores.Ordinal(copy);
            if (!stores.Has(copy))
            {
                if (copy == BackupSource.Secondary)
                {
                    // The scenario restores from the second copy: without one there is no standby at all.
                    findings.Add(ConfigurationMessage(copy));
                }
                continue;
            }
            var store = stores.For(copy);
            try
            {
                var own = await new BackupCatalog(store).LatestGoodAsync(null, ct);
                if (newest is not null)
                {
                    var (state, _) = await copies.StateAsync(newest, stores.Primary, copy, ct);
                    if (state is "verified" or "present")
                    {
                        checkedItems.Add($"{which} copy {store.Location} holds the newest backup {newest.Name} ({(state == "verified" ? "checksum proven" : "present, size matches")})");
                    }
                    else
                    {
                        findings.Add($"the {which} copy {store.Location} does not hold the newest backup {newest.Name}: {state}");
                    }
                }
                else if (own is null)
                {
                    findings.Add($"the {which} copy {store.Location} holds no good backup");
                }
                else
                {
                    checkedItems.Add($"{which} copy {store.Location} reachable, newest good backup {own.Name}");
                }
            }
            catch (RecoveryException e)
            {
                findings.Add($"the {which} copy {store.Location} is unreachable: {e.Message}");
            }
        }

        int? serverMajor = null;
        string? note = null;
        try
        {
            // The server's maintenance database: the staging database itself may not exist before the drill restores it.
            await using var connection = await Restores.DatabaseRestorer.OpenMaintenanceAsync(staging.Server, ct);
            serverMajor = connection.PostgreSqlVersion.Major;
        }
        catch (RecoveryException e)
        {
            note = e.Message;
            findings.Add($"the server to restore onto cannot be reached to compare the tools with: {e.Message}");
        }
        var report = await tools.CheckAsync(ClientToolCheck.Required, serverMajor, note, ct);
        findings.AddRange(report.Findings);
        if (report.Ready && serverMajor is not null)
        {
            checkedItems.Add($"tools fit for PostgreSQL {serverMajor}: {string.Join(", ", report.Tools.Select(t => $"{t.Tool} {t.Version}"))}");
        }

        return findings.Count == 0
            ? string.Join("; ", checkedItems)
            : throw new ConfigurationException($"the standby is not ready: {string.Join("; ", findings)}");
    }

    private string ConfigurationMessage(BackupSource copy)
    {
        try
        {
            stores.For(copy);
            return $"the {BackupStores.Ordinal(copy)} copy is not configured";
        }
        catch (ConfigurationException e)
        {
            return e.Message;
        }
    }
}
