using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Creates, on the target server, the roles a backup's objects and grants refer to, so that a restore
/// onto a brand-new server does not fail on missing owners. Roles are created without passwords:
/// credentials are set by rotation, never carried in a backup. Existing roles are left as they are.
/// </summary>
public static class RoleProvisioner
{
    public static async Task<IReadOnlyList<string>> EnsureAsync(NpgsqlConnection admin, IReadOnlyList<RoleDefinition> roles, CancellationToken ct)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT rolname FROM pg_roles", admin))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                existing.Add(reader.GetString(0));
            }
        }
        var created = new List<string>();
        foreach (var role in roles.Where(r => !existing.Contains(r.Name)))
        {
            var attributes = string.Join(' ',
                role.Superuser ? "SUPERUSER" : "NOSUPERUSER",
                role.Inherit ? "INHERIT" : "NOINHERIT",
                role.CreateRole ? "CREATEROLE" : "NOCREATEROLE",
                role.CreateDb ? "CREATEDB" : "NOCREATEDB",
                role.CanLogin ? "LOGIN" : "NOLOGIN",
                role.Replication ? "REPLICATION" : "NOREPLICATION",
                role.BypassRls ? "BYPASSRLS" : "NOBYPASSRLS",
                $"CONNECTION LIMIT {role.ConnectionLimit}");
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {PgConnector.Quote(role.Name)} {attributes}", ct);
            created.Add(role.Name);
        }
        foreach (var role in roles)
        {
            foreach (var group in role.MemberOf)
            {
                await PgConnector.ExecuteAsync(admin, $"""
                    DO $floyo$ BEGIN
                      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {PgConnector.Literal(group)})
                         AND NOT pg_has_role({PgConnector.Literal(role.Name)}, {PgConnector.Literal(group)}, 'MEMBER') THEN
                        GRANT {PgConnector.Quote(group)} TO {PgConnector.Quote(role.Name)};
                      END IF;
                    END $floyo$
                    """, ct);
            }
        }
        return created;
    }
}
