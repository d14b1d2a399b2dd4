using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>A membership granted by <see cref="RoleProvisioner"/>: <c>GRANT Group TO Member</c>.</summary>
public sealed record RoleMembership(string Member, string Group);

/// <summary>What one <see cref="RoleProvisioner.EnsureAsync"/> call created; everything else on the server it left alone.</summary>
public sealed record ProvisionedRoles(IReadOnlyList<string> Roles, IReadOnlyList<RoleMembership> Memberships)
{
    public static readonly ProvisionedRoles None = new([], []);
}

/// <summary>What <see cref="RoleProvisioner.DropAsync"/> dropped, and what it could not drop (with why).</summary>
public sealed record ReleasedRoles(IReadOnlyList<string> Dropped, IReadOnlyList<string> Kept);

/// <summary>
/// Creates, on the target server, the roles a backup's objects and grants refer to, so that a restore
/// onto a brand-new server does not fail on missing owners. Roles are created without passwords:
/// credentials are set by rotation, never carried in a backup.
/// Roles that exist are never changed: not their attributes, not their memberships (a membership revoked,
/// or a role dropped, after the backup is a security decision a restore must not undo). Recorded
/// memberships are granted only to roles created in the same call.
/// </summary>
public static class RoleProvisioner
{
    public static async Task<ProvisionedRoles> EnsureAsync(NpgsqlConnection admin, IReadOnlyList<RoleDefinition> roles, CancellationToken ct)
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
        var granted = new List<RoleMembership>();
        try
        {
            foreach (var role in roles.Where(r => !existing.Contains(r.Name)).DistinctBy(r => r.Name))
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
            var known = new HashSet<string>(existing.Concat(created), StringComparer.Ordinal);
            foreach (var role in roles.Where(r => created.Contains(r.Name)).DistinctBy(r => r.Name))
            {
                foreach (var group in role.MemberOf.Where(known.Contains).Distinct())
                {
                    await PgConnector.ExecuteAsync(admin, $"GRANT {PgConnector.Quote(group)} TO {PgConnector.Quote(role.Name)}", ct);
                    granted.Add(new RoleMembership(role.Name, group));
                }
            }
            // A non-superuser admin can set owners (pg_restore's ALTER ... OWNER TO) only as a member of the role.
            await AdminCapabilities.JoinCreatedAsync(admin, created, ct);
        }
        catch
        {
            // Half-provisioned roles help nobody: take back what this call made before reporting the failure.
            await DropAsync(admin, created, CancellationToken.None);
            throw;
        }
        return new ProvisionedRoles(created, granted);
    }

    /// <summary>
    /// Drops roles this process created (and only those: pass what <see cref="EnsureAsync"/> returned),
    /// after ending their sessions. A role something still depends on is kept and named, never forced.
    /// </summary>
    public static async Task<ReleasedRoles> DropAsync(NpgsqlConnection admin, IReadOnlyList<string> created, CancellationToken ct)
    {
        var dropped = new List<string>();
        var kept = new List<string>();
        foreach (var role in created.Reverse().Distinct())
        {
            try
            {
                await EndSessionsAsync(admin, role, ct);
                await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {PgConnector.Quote(role)}", ct);
                dropped.Add(role);
            }
            catch (PostgresException e)
            {
                kept.Add($"{role} ({e.MessageText})");
            }
        }
        return new ReleasedRoles(dropped, kept);
    }

    private static async Task EndSessionsAsync(NpgsqlConnection admin, string role, CancellationToken ct)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()", admin);
            command.Parameters.Add(new NpgsqlParameter { Value = role });
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == "42501")
        {
            // An admin without pg_signal_backend cannot end them; the drop still removes the role for every new login.
        }
    }
}
