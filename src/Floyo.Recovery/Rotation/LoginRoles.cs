using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Npgsql;

namespace Floyo.Recovery.Rotation;

/// <summary>
/// The PostgreSQL side of rotation. Passwords are sent as SCRAM verifiers (see <see cref="ScramVerifier"/>),
/// and no statement or message here ever contains a plain password.
/// </summary>
public static class LoginRoles
{
    public static async Task<bool> ExistsAsync(NpgsqlConnection admin, string role, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", admin) { Parameters = { new() { Value = role } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    public static async Task SetPasswordAsync(NpgsqlConnection admin, string role, string password, CancellationToken ct)
    {
        // A utility statement takes no parameters; the literal is a verifier, not the password.
        await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(role)} PASSWORD {PgConnector.Literal(ScramVerifier.Compute(password))}", ct);
    }

    /// <summary>Gives a role of the rotation its new password and lets it log in again (its retirement took LOGIN away), in one statement.</summary>
    public static async Task PutInServiceAsync(NpgsqlConnection admin, string role, string password, CancellationToken ct)
    {
        await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(role)} LOGIN PASSWORD {PgConnector.Literal(ScramVerifier.Compute(password))}", ct);
    }

    /// <summary>
    /// NOLOGIN and a random password nobody is told, in one statement. A role may always change its own
    /// password, so a session of this role still open (on any database) could otherwise set one it knows
    /// before its sessions are ended; NOLOGIN refuses every new login whatever the password, and only an
    /// admin (CREATEROLE) can give LOGIN back.
    /// </summary>
    public static async Task RetireAsync(NpgsqlConnection admin, string role, CancellationToken ct)
    {
        await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(role)} NOLOGIN PASSWORD {PgConnector.Literal(ScramVerifier.Compute(RandomSecret.Create()))}", ct);
    }

    public static async Task<int> EndSessionsAsync(NpgsqlConnection admin, string role, CancellationToken ct)
    {
        const string sql = "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()";
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = role } } };
        return (int)(long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Logs in as <paramref name="role"/> with <paramref name="password"/>. A refusal for lack of CONNECT
    /// (42501, raised only after authentication succeeded) also proves the password: that is what a role
    /// isolated during a breach answers.
    /// </summary>
    public static async Task<LoginProof> ProveAsync(NpgsqlConnectionStringBuilder server, string database, string role, string password, CancellationToken ct)
    {
        var target = new NpgsqlConnectionStringBuilder(server.ConnectionString)
        {
            Database = database,
            Username = role,
            Password = password,
            Pooling = false,
            ApplicationName = "floyo-dr rotation check",
            Timeout = 15,
        };
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT session_user", connection);
            var user = (string?)await command.ExecuteScalarAsync(ct);
            return user == role
                ? LoginProof.LoggedIn
                : throw new RecoveryException($"logging in as '{role}' gave session user '{user}'; the credential was not published");
        }
        catch (PostgresException e) when (e.SqlState == "42501")
        {
            return LoginProof.AuthenticatedButNoConnect;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // The explanation names user, host and database only.
            var explained = PgConnector.Explain(e, target);
            throw new RecoveryException($"the new password for '{role}' did not work ({explained.Message}); the secret was not changed");
        }
    }

    /// <summary>Who may CONNECT to <paramref name="database"/>, and whether the role can log in at all.</summary>
    public static async Task<(bool CanLogin, bool CanConnect)> AccessAsync(NpgsqlConnection admin, string role, string database, CancellationToken ct)
    {
        const string sql = "SELECT r.rolcanlogin, has_database_privilege(r.oid, d.oid, 'CONNECT') FROM pg_roles r, pg_database d WHERE r.rolname = $1 AND d.datname = $2";
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = role }, new() { Value = database } } };
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetBoolean(0), reader.GetBoolean(1)) : (false, false);
    }
}

public enum LoginProof
{
    LoggedIn,
    AuthenticatedButNoConnect,
}
