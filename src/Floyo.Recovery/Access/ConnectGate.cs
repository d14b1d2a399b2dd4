using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Npgsql;

namespace Floyo.Recovery.Access;

/// <summary>
/// Shuts the application out of one database and lets it back in, for the restore workflow (stop writes)
/// and breach recovery (isolate): records who held CONNECT before anything changes, revokes it, proves the
/// application's roles can no longer connect, ends their sessions, and later gives back exactly what it
/// took. The record is written to the store first and reused by every later attempt, so a rerun after a
/// crash (when CONNECT is already gone) still knows the original state. Superusers keep access anyway; a
/// non-superuser admin (managed PostgreSQL) is kept in by an explicit grant the record remembers, and its
/// sessions never end superusers' (it cannot). Nothing here touches data.
/// </summary>
public sealed class ConnectGate(IBackupStore store, TimeProvider clock)
{
    public const string Public = "PUBLIC";

    /// <summary>The record of an earlier close, or null.</summary>
    public async Task<GateRecord?> ReadAsync(string recordName, CancellationToken ct)
    {
        ObjectName.Check(recordName);
        // Never read as absent: a second capture after CONNECT was revoked would record the closed state as the original.
        return await StoredJson.ReadRequiredAsync<GateRecord>(store, recordName, "compare the database's CONNECT grants by hand", ct);
    }

    /// <summary>
    /// Closes <paramref name="database"/> to the application as <paramref name="policy"/> says. Refusals
    /// (a named role missing, a superuser where closing must succeed) happen before anything changes; when
    /// closing must succeed and a role can still connect, what was revoked is given back before failing.
    /// </summary>
    public async Task<GateClosed> CloseAsync(NpgsqlConnection admin, string recordName, string database, GatePolicy policy, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(policy);
        var record = await ReadAsync(recordName, ct);
        if (record is null)
        {
            record = await CaptureAsync(admin, database, policy, ct);
            await store.WriteAllAsync(recordName, JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);
        }

        var still = await RevokeAsync(admin, record.Database, record, ct);
        if (still.Count > 0 && record.Policy.MustClose)
        {
            await ReopenAsync(admin, record, CancellationToken.None);
            throw new RefusedException($"role '{still[0]}' can still connect to '{record.Database}' after CONNECT was revoked (a grant through another role?); CONNECT was given back and nothing else changed");
        }
        var ended = await EndSessionsAsync(admin, record, ct);
        return new GateClosed(record, ended, still);
    }

    /// <summary>
    /// Closes another database (a restored copy about to take the original's name) exactly as the record
    /// closed the original, so the application stays out across the swap. Fails if a role could still connect.
    /// </summary>
    public async Task CloseCopyAsync(NpgsqlConnection admin, string database, GateRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        var still = await RevokeAsync(admin, database, record, ct);
        if (still.Count > 0)
        {
            throw new RefusedException($"role '{still[0]}' can still connect to '{database}' after CONNECT was revoked (a grant through another role?)");
        }
    }

    /// <summary>Gives CONNECT back to exactly the grantees the close took it from (roles dropped since are skipped).</summary>
    public async Task<IReadOnlyList<string>> ReopenAsync(NpgsqlConnection admin, GateRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        var grantees = await ExistingAsync(admin, record.Revoked, ct);
        if (grantees.Count > 0)
        {
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(record.Database)} TO {string.Join(", ", grantees.Select(Grantee))}", ct);
        }
        if (record is { KeptIn: { } kept, KeptInAdded: true } && (await ExistingAsync(admin, [kept], ct)).Count > 0)
        {
            // Only what the close added: the admin's own grant, given so it could restore.
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {PgConnector.Quote(record.Database)} FROM {PgConnector.Quote(kept)}", ct);
        }
        return grantees;
    }

    /// <summary>The grantee as SQL: PUBLIC is a keyword, roles are quoted.</summary>
    public static string Grantee(string role) => role == Public ? Public : PgConnector.Quote(role);

    private async Task<GateRecord> CaptureAsync(NpgsqlConnection admin, string database, GatePolicy policy, CancellationToken ct)
    {
        var server = $"{admin.Host}:{admin.Port}";
        var present = new List<string>();
        var missing = new List<string>();
        foreach (var role in policy.Roles.Distinct(StringComparer.Ordinal))
        {
            await using var command = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = $1", admin) { Parameters = { new() { Value = role } } };
            switch (await command.ExecuteScalarAsync(ct))
            {
                case null when policy.RolesNamed:
                    throw new ConfigurationException($"{policy.RolesSetting} names role '{role}', which does not exist on {server}; nothing was changed");
                case null:
                    missing.Add(role);
                    break;
                case true when policy.MustClose:
                    throw new ConfigurationException($"{policy.RolesSetting} names role '{role}', a superuser: revoking CONNECT cannot stop its writes; nothing was changed");
                default:
                    present.Add(role);
                    break;
            }
        }
        var holders = await ReadHoldersAsync(admin, database, ct);
        var kept = await AdminCapabilities.IsSuperuserAsync(admin, ct) ? null : await AdminCapabilities.CurrentUserAsync(admin, ct);
        // Only what held CONNECT is ever given back: a role that never had it is not granted it by reopening.
        List<string> revoked = policy.EveryGrantee
            ? holders
            : [.. present.Where(holders.Contains), .. policy.Public && holders.Contains(Public) ? [Public] : Array.Empty<string>()];
        revoked.Remove(kept ?? "");
        return new GateRecord(database, holders, revoked, present, missing, policy, clock.GetUtcNow(), kept, kept is not null && !holders.Contains(kept));
    }

    /// <summary>Revokes CONNECT as the record says, then returns the application roles that can still connect.</summary>
    private static async Task<List<string>> RevokeAsync(NpgsqlConnection admin, string database, GateRecord record, CancellationToken ct)
    {
        var names = record.Revoked.Concat(record.Roles);
        if (record.Policy.Public)
        {
            names = names.Append(Public);
        }
        if (record.Policy.EveryGrantee)
        {
            // Today's grantees too: a role granted CONNECT since the record was written is shut out as well.
            names = names.Concat(await ReadHoldersAsync(admin, database, ct));
        }
        if (record.KeptIn is { } kept)
        {
            // First, so the admin never loses the database it is about to restore (PUBLIC and the owner were its way in).
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(database)} TO {PgConnector.Quote(kept)}", ct);
            names = names.Where(n => n != kept);
        }
        var targets = await ExistingAsync(admin, names, ct);
        if (targets.Count > 0)
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {PgConnector.Quote(database)} FROM {string.Join(", ", targets.Select(Grantee))}", ct);
        }
        var still = new List<string>();
        foreach (var role in record.Roles)
        {
            await using var command = new NpgsqlCommand(
                "SELECT has_database_privilege(r.oid, d.oid, 'CONNECT') FROM pg_roles r, pg_database d WHERE r.rolname = $1 AND d.datname = $2", admin)
            {
                Parameters = { new() { Value = role }, new() { Value = database } },
            };
            if (await command.ExecuteScalarAsync(ct) is true)
            {
                still.Add(role);
            }
        }
        return still;
    }

    private static async Task<int> EndSessionsAsync(NpgsqlConnection admin, GateRecord record, CancellationToken ct)
    {
        var sql = record.Policy.Sessions switch
        {
            SessionScope.RolesOnDatabase => "a.datname = $1 AND r.rolname = ANY($2::text[])",
            SessionScope.NonSuperusersOnDatabase => "a.datname = $1 AND NOT r.rolsuper",
            SessionScope.RolesOnServer => "r.rolname = ANY($2::text[])",
            _ => throw new ArgumentOutOfRangeException(nameof(record), record.Policy.Sessions, "unknown session scope"),
        };
        await using var command = new NpgsqlCommand(
            // A non-superuser may not end a superuser's session (it would fail the whole statement): those are skipped
            // here; restores refuse them up front (RestorePreflight), isolation reports the role as still able to connect.
            $"""
            SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid)) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
            WHERE a.pid <> pg_backend_pid() AND (NOT r.rolsuper OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) AND {sql}
            """, admin)
        {
            Parameters = { new() { Value = record.Database }, new() { Value = record.Roles.ToArray() } },
        };
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Roles (and <c>PUBLIC</c>) holding CONNECT on the database through its ACL, the owner's implicit grant included.</summary>
    public static async Task<List<string>> ReadHoldersAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        const string sql = """
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
            FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
            WHERE d.datname = $1 AND a.privilege_type = 'CONNECT'
            ORDER BY 1
            """;
        var holders = new List<string>();
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = database } } };
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            holders.Add(reader.GetString(0));
        }
        return [.. holders.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The names that exist as roles (PUBLIC always does), in order, without duplicates.</summary>
    private static async Task<List<string>> ExistingAsync(NpgsqlConnection admin, IEnumerable<string> names, CancellationToken ct)
    {
        var result = new List<string>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (name == Public)
            {
                result.Add(name);
                continue;
            }
            await using var command = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", admin) { Parameters = { new() { Value = name } } };
            if (await command.ExecuteScalarAsync(ct) is not null)
            {
                result.Add(name);
            }
        }
        return result;
    }
}
