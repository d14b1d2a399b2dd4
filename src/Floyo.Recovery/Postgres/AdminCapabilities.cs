using Npgsql;

namespace Floyo.Recovery.Postgres;

/// <summary>A refusal because the admin lacks a right a step needs: a setup problem, never a finding about a backup.</summary>
public sealed class AdminCapabilityException(string message) : RefusedException(message);

/// <summary>
/// What a NOSUPERUSER admin (Azure Database for PostgreSQL and most managed services) may do, checked before
/// a step changes anything, with the exact GRANT that would let it. A superuser passes every check.
/// </summary>
public static class AdminCapabilities
{
    public static async Task<bool> IsSuperuserAsync(NpgsqlConnection admin, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", admin);
        return await command.ExecuteScalarAsync(ct) is true;
    }

    public static async Task<string> CurrentUserAsync(NpgsqlConnection admin, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT current_user::text", admin);
        return (string)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The existing roles among <paramref name="roles"/> whose rights the admin does not hold. ALTER ... OWNER TO,
    /// CREATE DATABASE ... OWNER and acting as a database's owner all need that membership.
    /// </summary>
    public static async Task<List<string>> NotMemberOfAsync(NpgsqlConnection admin, IEnumerable<string> roles, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT r.rolname FROM pg_roles r WHERE r.rolname = ANY($1::text[]) AND NOT pg_has_role(current_user, r.oid, 'USAGE') ORDER BY 1", admin)
        {
            Parameters = { new() { Value = roles.Distinct(StringComparer.Ordinal).ToArray() } },
        };
        var result = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(reader.GetString(0));
        }
        return result;
    }

    public static string GrantSql(IEnumerable<string> roles, string admin) => $"GRANT {string.Join(", ", roles.Select(PgConnector.Quote))} TO {PgConnector.Quote(admin)};";

    /// <summary>
    /// Makes a non-superuser admin a member of the roles it has just created (CREATEROLE allows it), so pg_restore
    /// can make them owners. Only roles this run created: memberships of roles that existed are never changed.
    /// </summary>
    public static async Task JoinCreatedAsync(NpgsqlConnection admin, IReadOnlyList<string> created, CancellationToken ct)
    {
        if (created.Count == 0 || await IsSuperuserAsync(admin, ct))
        {
            return;
        }
        var missing = await NotMemberOfAsync(admin, created, ct);
        if (missing.Count > 0)
        {
            await PgConnector.ExecuteAsync(admin, $"GRANT {string.Join(", ", missing.Select(PgConnector.Quote))} TO CURRENT_USER", ct);
        }
    }

    /// <summary>
    /// pg_dump, and the row counts taken in its snapshot, read every table, materialized view and sequence: a
    /// non-superuser needs SELECT on each (pg_read_all_data gives exactly that) and, where row-level security is
    /// on, the owner's rights or BYPASSRLS (pg_dump refuses to dump a filtered table).
    /// </summary>
    public static async Task CheckCanDumpAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (await IsSuperuserAsync(connection, ct))
        {
            return;
        }
        const string sql = """
            SELECT format('%I.%I', n.nspname, c.relname), count(*) OVER ()
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'm', 'S')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
              AND (NOT has_schema_privilege(n.oid, 'USAGE') OR NOT has_table_privilege(c.oid, 'SELECT')
                   OR (c.relrowsecurity AND NOT pg_has_role(c.relowner, 'USAGE') AND NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)))
            ORDER BY 1 LIMIT 1
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return;
        }
        var (first, count) = (reader.GetString(0), reader.GetInt64(1));
        await reader.DisposeAsync();
        var user = await CurrentUserAsync(connection, ct);
        throw new AdminCapabilityException(
            $"the admin '{user}' is not a superuser and cannot read {count} table(s) of '{connection.Database}' (first: {first}); pg_dump must read every table: run GRANT pg_read_all_data TO {PgConnector.Quote(user)}; (tables with row-level security also need their owner's role or BYPASSRLS); nothing was backed up");
    }
}
