using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Storage;
using Npgsql;
using ZstdSharp;

namespace Floyo.Recovery.Restores;

/// <summary>
/// The admin capabilities a restore needs, checked before it changes anything (roles, CONNECT, databases), so
/// that a non-superuser admin is refused with the exact GRANT instead of failing half-way with writes stopped:
/// membership of every role the archive makes an owner (pg_restore runs ALTER ... OWNER TO), of the database's
/// owner and of the existing target's owner; no role to create that only a superuser may create; CONNECT on the
/// target; and no superuser session on a target it must empty for the swap (a non-superuser cannot end it).
/// </summary>
public static class RestorePreflight
{
    /// <param name="target">The database the restore creates or replaces; <paramref name="targetExists"/> says which.</param>
    /// <param name="superuserSessions">Whether superusers' sessions on the target refuse the restore (breach isolation checks them later, at the restore).</param>
    public static async Task CheckAsync(NpgsqlConnection admin, IBackupStore store, BackupEntry entry, string target, bool targetExists, CancellationToken ct, bool superuserSessions = true)
    {
        if (await AdminCapabilities.IsSuperuserAsync(admin, ct))
        {
            return;
        }
        var user = await AdminCapabilities.CurrentUserAsync(admin, ct);
        var meta = entry.Metadata;
        var owners = (await ArchiveOwnersAsync(store, meta, ct)).Append(meta.Facts.Properties.Owner).ToList();
        if (targetExists && await ScalarAsync<string>(admin, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = $1", target, ct) is { } targetOwner)
        {
            owners.Add(targetOwner);
        }
        owners = [.. owners.Where(o => !o.StartsWith("pg_", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal)];

        var existing = await ExistingAsync(admin, meta.Facts.Roles.Select(r => r.Name), ct);
        if (meta.Facts.Roles.FirstOrDefault(r => !existing.Contains(r.Name) && (r.Superuser || r.Replication || r.BypassRls)) is { } role)
        {
            throw new AdminCapabilityException(
                $"role '{role.Name}' does not exist on {admin.Host}:{admin.Port} and the backup records it as SUPERUSER, REPLICATION or BYPASSRLS, which only a superuser can create; '{user}' is not one: create the role first (then GRANT {PgConnector.Quote(role.Name)} TO {PgConnector.Quote(user)};); the restore did not start");
        }
        var notMember = await AdminCapabilities.NotMemberOfAsync(admin, owners, ct);
        if (notMember.Count > 0)
        {
            throw new AdminCapabilityException(
                $"the admin '{user}' is not a superuser and not a member of {string.Join(", ", notMember.Select(r => $"'{r}'"))}, which own(s) objects of {meta.Name}{(targetExists ? $" or the database '{target}'" : "")}: pg_restore sets owners with ALTER ... OWNER TO, which needs that membership: run {AdminCapabilities.GrantSql(notMember, user)} and retry; the restore did not start");
        }
        if (targetExists && await ScalarAsync<bool>(admin, "SELECT has_database_privilege(current_user, $1, 'CONNECT')", target, ct) is false)
        {
            throw new AdminCapabilityException(
                $"the admin '{user}' may not connect to '{target}': run GRANT CONNECT ON DATABASE {PgConnector.Quote(target)} TO {PgConnector.Quote(user)}; and retry; the restore did not start");
        }
        if (targetExists && superuserSessions && await ScalarAsync<string>(admin, """
                SELECT string_agg(DISTINCT r.rolname::text, ', ') FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
                WHERE a.datname = $1 AND r.rolsuper AND a.pid <> pg_backend_pid()
                """, target, ct) is { Length: > 0 } superusers)
        {
            throw new AdminCapabilityException(
                $"superuser '{superusers}' is connected to '{target}' and the admin '{user}', not a superuser, cannot end that session before the swap: end it (or connect it elsewhere) and retry; the restore did not start");
        }
    }

    /// <summary>The owners pg_restore will set, from the archive's table of contents (read from the front of the stream); none if it cannot be read here.</summary>
    private static async Task<IEnumerable<string>> ArchiveOwnersAsync(IBackupStore store, BackupMetadata meta, CancellationToken ct)
    {
        try
        {
            await using var source = await store.OpenReadAsync(meta.Name, ct);
            await using var decoded = meta.IsCompressed ? new DecompressionStream(source, 1 << 20, leaveOpen: true) : source;
            var toc = await new ArchiveReader(decoded).ReadTocAsync(ct);
            return toc.Entries.Select(e => e.Owner).OfType<string>().ToList();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ZstdException)
        {
            // A damaged archive is refused later by its checksum, before anything changes; the database owner is still checked.
            return [];
        }
    }

    private static async Task<HashSet<string>> ExistingAsync(NpgsqlConnection admin, IEnumerable<string> names, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1::text[])", admin) { Parameters = { new() { Value = names.ToArray() } } };
        var result = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(reader.GetString(0));
        }
        return result;
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection admin, string sql, string value, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = value } } };
        return await command.ExecuteScalarAsync(ct) is T result ? result : default;
    }
}
