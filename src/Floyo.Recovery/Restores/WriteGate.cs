using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Who may connect to a database, captured before a restore closes it: the grantees of CONNECT
/// (<c>PUBLIC</c> included) and the application roles whose sessions are ended. Kept so the very same
/// grants can be given back, by the workflow or by an operator, once the restore has been checked.
/// </summary>
public sealed record WriteFreeze(
    string Database,
    bool Applied,
    IReadOnlyList<string> ConnectGrantees,
    IReadOnlyList<string> AppRoles,
    int TerminatedSessions,
    string? RecordName)
{
    public const string Public = "PUBLIC";

    /// <summary>Nothing to stop: the target does not exist yet.</summary>
    public static WriteFreeze NotNeeded(string database) => new(database, false, [], [], 0, null);

    /// <summary>The statement that reopens the database, for the operator's eyes when the workflow cannot.</summary>
    public string ResumeSql => ConnectGrantees.Count == 0
        ? "-- no role had CONNECT"
        : $"GRANT CONNECT ON DATABASE {PgConnector.Quote(Database)} TO {string.Join(", ", ConnectGrantees.Select(WriteGate.Grantee))}";
}

/// <summary>
/// Stops and resumes the application's writes to one database by revoking CONNECT (from PUBLIC, from
/// every role that holds it, and from APP_DB_ROLES) and ending the application's sessions. Superusers
/// keep access: the restore itself runs as one. Nothing here touches data.
/// </summary>
public static class WriteGate
{
    /// <summary>Roles (and <c>PUBLIC</c>) that hold CONNECT on <paramref name="database"/> through its ACL, the owner's implicit grant included.</summary>
    public static async Task<IReadOnlyList<string>> ReadConnectGranteesAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        const string sql = """
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
            FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
            WHERE d.datname = $1 AND a.privilege_type = 'CONNECT'
            ORDER BY 1
            """;
        var grantees = new List<string>();
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = database } } };
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            grantees.Add(reader.GetString(0));
        }
        return grantees.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Refuses application roles that do not exist or are superusers: CONNECT cannot keep those out.</summary>
    public static async Task CheckAppRolesAsync(NpgsqlConnection admin, IReadOnlyList<string> roles, string server, CancellationToken ct)
    {
        foreach (var role in roles)
        {
            await using var command = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = $1", admin) { Parameters = { new() { Value = role } } };
            var super = await command.ExecuteScalarAsync(ct);
            if (super is null)
            {
                throw new RecoveryException($"APP_DB_ROLES names role '{role}', which does not exist on {server}; nothing was changed");
            }
            if (super is true)
            {
                throw new RecoveryException($"APP_DB_ROLES names role '{role}', a superuser: revoking CONNECT cannot stop its writes; nothing was changed");
            }
        }
    }

    /// <summary>Revokes CONNECT from every current grantee and the application roles, then proves none of those roles can still connect.</summary>
    public static async Task RevokeAsync(NpgsqlConnection admin, string database, IReadOnlyList<string> grantees, IReadOnlyList<string> appRoles, CancellationToken ct)
    {
        var current = await ReadConnectGranteesAsync(admin, database, ct);
        var targets = await ExistingAsync(admin, current.Concat(grantees).Concat(appRoles), ct);
        if (targets.Count > 0)
        {
            await PgConnector.ExecuteAsync(admin, $"REVOKE CONNECT ON DATABASE {PgConnector.Quote(database)} FROM {string.Join(", ", targets.Select(Grantee))}", ct);
        }
        foreach (var role in appRoles)
        {
            await using var command = new NpgsqlCommand("SELECT has_database_privilege($1, $2, 'CONNECT')", admin)
            {
                Parameters = { new() { Value = role }, new() { Value = database } },
            };
            if (await command.ExecuteScalarAsync(ct) is true)
            {
                throw new RecoveryException($"role '{role}' can still connect to '{database}' after CONNECT was revoked (a grant through another role?)");
            }
        }
    }

    /// <summary>Ends the sessions of the application roles (of every non-superuser when none are configured) on <paramref name="database"/>.</summary>
    public static async Task<int> TerminateSessionsAsync(NpgsqlConnection admin, string database, IReadOnlyList<string> appRoles, CancellationToken ct)
    {
        const string sql = """
            SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
            WHERE a.datname = $1 AND a.pid <> pg_backend_pid()
              AND (CASE WHEN cardinality($2::text[]) = 0 THEN NOT r.rolsuper ELSE r.rolname = ANY($2::text[]) END)
            """;
        await using var command = new NpgsqlCommand(sql, admin)
        {
            Parameters = { new() { Value = database }, new() { Value = appRoles.ToArray() } },
        };
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Gives CONNECT back to exactly the grantees the freeze recorded (roles dropped since then are skipped).</summary>
    public static async Task GrantAsync(NpgsqlConnection admin, WriteFreeze freeze, CancellationToken ct)
    {
        var grantees = await ExistingAsync(admin, freeze.ConnectGrantees, ct);
        if (grantees.Count > 0)
        {
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(freeze.Database)} TO {string.Join(", ", grantees.Select(Grantee))}", ct);
        }
    }

    /// <summary>The names that still exist as roles (PUBLIC always does), in order, without duplicates.</summary>
    private static async Task<List<string>> ExistingAsync(NpgsqlConnection admin, IEnumerable<string> names, CancellationToken ct)
    {
        var result = new List<string>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (name == WriteFreeze.Public)
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

    internal static string Grantee(string role) => role == WriteFreeze.Public ? "PUBLIC" : PgConnector.Quote(role);
}
