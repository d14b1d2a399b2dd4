using Npgsql;

namespace Floyo.Recovery.Postgres;

/// <summary>
/// Reads <see cref="DatabaseFacts"/> over an open connection. During a backup the connection is inside
/// the transaction whose snapshot pg_dump also uses, so the row counts describe exactly what was dumped.
/// </summary>
public static class DatabaseInspector
{
    private const string UserSchemas =
        "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

    /// <param name="countRows">False skips the row counts (a full scan of every table): catalog facts only.</param>
    /// <param name="sequences">Values read earlier (<see cref="ReadSequencesAsync"/>) to use instead of reading them now.</param>
    public static async Task<DatabaseFacts> CaptureAsync(NpgsqlConnection connection, CancellationToken ct, bool countRows = true, IReadOnlyList<SequenceValue>? sequences = null)
    {
        var (version, versionNum, properties) = await ReadServerAsync(connection, ct);
        var tables = countRows ? await CountRowsAsync(connection, ct) : [];
        var objects = await CountObjectsAsync(connection, ct);
        sequences ??= await ReadSequencesAsync(connection, ct);
        var roles = await ReadRolesAsync(connection, ct);
        return new DatabaseFacts(version, versionNum, properties, tables, objects, sequences, roles);
    }

    private static async Task<(string, int, DatabaseProperties)> ReadServerAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            SELECT current_setting('server_version'), current_setting('server_version_num')::int,
                   pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype
            FROM pg_database d WHERE d.datname = current_database()
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetString(0), reader.GetInt32(1),
            new DatabaseProperties(reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
    }

    private static async Task<List<TableRows>> CountRowsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var relations = new List<(string Schema, string Name, string Kind)>();
        var sql = $"""
            SELECT n.nspname, c.relname, c.relkind::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND {UserSchemas}
              AND (c.relkind <> 'm' OR c.relispopulated)
            ORDER BY n.nspname, c.relname
            """;
        await using (var command = new NpgsqlCommand(sql, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                relations.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2) == "m" ? "matview" : "table"));
            }
        }
        var result = new List<TableRows>(relations.Count);
        foreach (var (schema, name, kind) in relations)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM ONLY {PgConnector.Quote(schema)}.{PgConnector.Quote(name)}", connection);
            result.Add(new TableRows(schema, name, kind, (long)(await count.ExecuteScalarAsync(ct))!));
        }
        return result;
    }

    private static async Task<Dictionary<string, long>> CountObjectsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var sql = $"""
            SELECT 'schemas', count(*) FROM pg_namespace n WHERE {UserSchemas} AND n.nspname <> 'public'
            UNION ALL SELECT 'tables', count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' AND {UserSchemas}
            UNION ALL SELECT 'indexes', count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') AND c.relpersistence <> 't' AND {UserSchemas}
            UNION ALL SELECT 'views', count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND {UserSchemas}
            UNION ALL SELECT 'materialized_views', count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND {UserSchemas}
            UNION ALL SELECT 'sequences', count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND c.relpersistence <> 't' AND {UserSchemas}
            UNION ALL SELECT 'constraints', count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE {UserSchemas}
            UNION ALL SELECT 'functions', count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {UserSchemas}
            UNION ALL SELECT 'triggers', count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND {UserSchemas}
            UNION ALL SELECT 'types', count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype IN ('d', 'e', 'c') AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') AND {UserSchemas}
            UNION ALL SELECT 'extensions', count(*) FROM pg_extension
            """;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    /// <summary>Current sequence values. Sequences ignore snapshots: they are read now, whatever the transaction.</summary>
    public static async Task<List<SequenceValue>> ReadSequencesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            SELECT schemaname::text, sequencename::text, last_value FROM pg_sequences
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2
            """;
        var result = new List<SequenceValue>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new SequenceValue(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)));
        }
        return result;
    }

    /// <summary>
    /// Roles that own objects or hold grants in this database (pg_shdepend records exactly those, plus the
    /// database's own ACL), the database owner, the login roles that reach those grants through group
    /// membership (the application's logins, not the admin taking the backup), and the groups all of them belong to. Bootstrap-owned
    /// objects are pinned and not recorded, which is right: every server has that role.
    /// </summary>
    private static async Task<List<RoleDefinition>> ReadRolesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            WITH RECURSIVE direct AS (
                SELECT s.refobjid AS oid FROM pg_shdepend s
                WHERE s.refclassid = 'pg_authid'::regclass
                  AND (s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                       OR (s.classid = 'pg_database'::regclass AND s.objid = (SELECT oid FROM pg_database WHERE datname = current_database())))
                UNION SELECT datdba FROM pg_database WHERE datname = current_database()
            ), members AS (
                SELECT oid FROM direct
                -- Not the admin taking the backup: a managed-service admin is a member of the owner only to act as it
                -- (docs/managed-postgres.md); recorded, it would be re-created on a new server, or taken for the app's login.
                UNION SELECT m.member FROM pg_auth_members m JOIN members g ON m.roleid = g.oid
                WHERE m.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
            ), closure AS (
                SELECT oid FROM members
                UNION SELECT m.roleid FROM pg_auth_members m JOIN closure c ON m.member = c.oid
            )
            SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
                   r.rolreplication, r.rolbypassrls, r.rolconnlimit,
                   coalesce(array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                  WHERE m.member = r.oid ORDER BY g.rolname), '{}')
            FROM pg_roles r WHERE r.oid IN (SELECT oid FROM closure) AND r.rolname NOT LIKE 'pg\_%'
            ORDER BY r.rolname
            """;
        var result = new List<RoleDefinition>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new RoleDefinition(reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3),
                reader.GetBoolean(4), reader.GetBoolean(5), reader.GetBoolean(6), reader.GetBoolean(7), reader.GetInt32(8),
                reader.GetFieldValue<string[]>(9)));
        }
        return result;
    }
}
