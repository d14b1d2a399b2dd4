using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Anomalies;

/// <summary>Records that a person vouches for a flagged backup, making it eligible as a good backup again.</summary>
public sealed class AcceptanceRecorder(BackupCatalog catalog, TimeProvider clock)
{
    public async Task<Acceptance> AcceptAsync(string backup, string acceptedBy, string reason, CancellationToken ct)
    {
        var entry = await catalog.FindAsync(backup, ct);
        if (entry.Metadata.Anomalies.Count == 0)
        {
            throw new RecoveryException($"{backup} was not flagged by anomaly detection; there is nothing to accept");
        }
        if (entry.Acceptance is { } existing)
        {
            return existing;
        }
        var acceptance = new Acceptance(entry.Name, acceptedBy, clock.GetUtcNow(), reason);
        await catalog.Store.WriteAllAsync(Acceptance.NameFor(entry.Name), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(acceptance, Json.Options),
            new ObjectRetention(entry.Metadata.RetainUntil), ct);
        return acceptance;
    }
}
