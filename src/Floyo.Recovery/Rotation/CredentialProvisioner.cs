using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Rotation;

public sealed record ProvisionResult(string Server, string Database, string GroupRole, IReadOnlyList<string> LoginRoles, IReadOnlyList<string> Changes);

/// <summary>
/// Sets up the application's login model, idempotently: a NOLOGIN group role that holds every grant, and
/// two LOGIN roles (blue, green) that inherit it. Each login role runs as the group by default
/// (<c>ALTER ROLE ... SET role</c>), so whatever the application creates is owned by the group and
/// survives the switch between blue and green. New login roles get no password: rotation gives one.
/// </summary>
public sealed partial class CredentialProvisioner(
    DatabaseConnections connections,
    IOptions<RotationOptions> options,
    ILogger<CredentialProvisioner> logger)
{
    public async Task<ProvisionResult> InitAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var server = await connections.DatabaseAsync(ct);
        var database = settings.Database ?? server.Database!;
        var changes = new List<string>();
        await using var admin = await PgConnector.OpenAsync(server, ct);
        if (!await PgConnector.DatabaseExistsAsync(admin, database, ct))
        {
            throw new NotFoundException($"database '{database}' does not exist at {server.Host}:{server.Port} (APP_DB_DATABASE)");
        }
        await using var tx = await admin.BeginTransactionAsync(ct);
        // Two concurrent inits would race on CREATE ROLE; the loser waits, then finds everything in place.
        await PgConnector.ExecuteAsync(admin, "SELECT pg_advisory_xact_lock(hashtext('floyo-dr credentials init'))", ct);

        var group = settings.GroupRole;
        var existing = await ReadRolesAsync(admin, [group, settings.BlueRole, settings.GreenRole], ct);
        if (!existing.TryGetValue(group, out var g))
        {
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {PgConnector.Quote(group)} NOLOGIN", ct);
            changes.Add($"created group role {group}");
        }
        else if (g.CanLogin)
        {
            await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(group)} NOLOGIN PASSWORD NULL", ct);
            changes.Add($"group role {group} could log in: made it NOLOGIN");
        }

        foreach (var login in new[] { settings.BlueRole, settings.GreenRole })
        {
            if (!existing.TryGetValue(login, out var role))
            {
                await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {PgConnector.Quote(login)} LOGIN INHERIT", ct);
                changes.Add($"created login role {login}");
            }
            else
            {
                if (role.Superuser)
                {
                    throw new ConfigurationException($"role '{login}' is a superuser; the application's login roles must not be: choose other names (APP_DB_BLUE_ROLE/APP_DB_GREEN_ROLE)");
                }
                // LOGIN is left as it is: a retired role is NOLOGIN on purpose, and publishing a password gives LOGIN back.
                if (!role.Inherit)
                {
                    await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(login)} INHERIT", ct);
                    changes.Add($"login role {login}: set INHERIT");
                }
            }
            if (!await IsMemberAsync(admin, login, group, ct))
            {
                await PgConnector.ExecuteAsync(admin, $"GRANT {PgConnector.Quote(group)} TO {PgConnector.Quote(login)}", ct);
                changes.Add($"granted {group} to {login}");
            }
            if (!await RunsAsGroupAsync(admin, login, database, group, ct))
            {
                await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(login)} IN DATABASE {PgConnector.Quote(database)} SET role = {PgConnector.Literal(group)}", ct);
                changes.Add($"{login} runs as {group} in {database}");
            }
        }
        if (!await HasConnectAsync(admin, group, database, ct))
        {
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(database)} TO {PgConnector.Quote(group)}", ct);
            changes.Add($"granted CONNECT on {database} to {group}");
        }
        await tx.CommitAsync(ct);
        LogProvisioned(logger, database, changes.Count);
        return new ProvisionResult($"{server.Host}:{server.Port}", database, group, [settings.BlueRole, settings.GreenRole], changes);
    }

    private sealed record RoleState(bool CanLogin, bool Inherit, bool Superuser);

    private static async Task<Dictionary<string, RoleState>> ReadRolesAsync(NpgsqlConnection admin, string[] names, CancellationToken ct)
    {
        var result = new Dictionary<string, RoleState>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand("SELECT rolname, rolcanlogin, rolinherit, rolsuper FROM pg_roles WHERE rolname = ANY($1)", admin) { Parameters = { new() { Value = names } } };
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetString(0)] = new RoleState(reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3));
        }
        return result;
    }

    private static async Task<bool> IsMemberAsync(NpgsqlConnection admin, string member, string group, CancellationToken ct)
    {
        const string sql = "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2";
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = group }, new() { Value = member } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    private static async Task<bool> RunsAsGroupAsync(NpgsqlConnection admin, string login, string database, string group, CancellationToken ct)
    {
        const string sql = """
            SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d ON d.oid = s.setdatabase
            WHERE r.rolname = $1 AND d.datname = $2 AND $3 = ANY(s.setconfig)
            """;
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = login }, new() { Value = database }, new() { Value = $"role={group}" } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    private static async Task<bool> HasConnectAsync(NpgsqlConnection admin, string role, string database, CancellationToken ct)
    {
        // An explicit grant, not one inherited from PUBLIC: isolation may revoke PUBLIC's.
        const string sql = """
            SELECT 1 FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a JOIN pg_roles r ON r.oid = a.grantee
            WHERE d.datname = $2 AND r.rolname = $1 AND a.privilege_type = 'CONNECT'
            """;
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = role }, new() { Value = database } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Information, Message = "Application login roles in {Database}: {Changes} changes")]
    private static partial void LogProvisioned(ILogger logger, string database, int changes);
}
