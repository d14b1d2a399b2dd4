using System.Globalization;
using System.Text;
using Floyo.Recovery.Access;
using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Breach;

/// <summary>
/// The database a breach restore replaces is evidence (what the attacker wrote after the last backup), so
/// it is renamed aside under a name that says so, <c>&lt;db&gt;_breach_&lt;incident start&gt;</c>, instead of
/// being dropped, and only the admin may connect to it. It stays until a person drops it.
/// </summary>
public static class CompromisedDatabase
{
    /// <summary>The name the incident keeps the replaced database under: one per incident, so a rerun finds it.</summary>
    public static string NameFor(string database, Incident incident)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(incident);
        var suffix = "_breach_" + incident.StartedAt.UtcDateTime.ToString("yyyyMMdd'_'HHmmss", CultureInfo.InvariantCulture);
        var prefix = database;
        while (Encoding.UTF8.GetByteCount(prefix) + suffix.Length > 63)
        {
            prefix = prefix[..^1];
        }
        return prefix + suffix;
    }

    /// <summary>
    /// CONNECT taken from every holder but the admin running this (PUBLIC included), then connections
    /// allowed again (the swap disallowed them before the rename) so the admin can investigate. Converges when run twice.
    /// </summary>
    public static async Task LockDownAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var db = PgConnector.Quote(database);
        await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {db} TO CURRENT_USER", ct);
        await using (var command = new NpgsqlCommand("SELECT current_user", admin))
        {
            var self = (string)(await command.ExecuteScalarAsync(ct))!;
            foreach (var holder in await ConnectGate.ReadHoldersAsync(admin, database, ct))
            {
                if (holder != self)
                {
                    await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {db} FROM {ConnectGate.Grantee(holder)}", ct);
                }
            }
        }
        await PgConnector.ExecuteAsync(admin, $"ALTER DATABASE {db} ALLOW_CONNECTIONS true", ct);
    }
}
