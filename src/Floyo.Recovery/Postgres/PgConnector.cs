using System.Collections.Concurrent;
using System.Net.Sockets;
using Npgsql;

namespace Floyo.Recovery.Postgres;

/// <summary>Opens connections and turns the ways that fails into one line an operator can act on.</summary>
public static class PgConnector
{
    // One data source per connection string for the process's life, as Npgsql keeps those of new NpgsqlConnection(string).
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> BuiltInTypesOnly = new(StringComparer.Ordinal);

    /// <param name="builtInTypesOnly">
    /// Do not load the server's type catalogue (Npgsql's first query on a new connection string, a join over pg_type,
    /// pg_class, pg_proc, pg_range and pg_namespace, then parsing every row): for a connection that reads only built-in types (text,
    /// bool, integers), where that load was a measured part of a base backup's fixed start-up cost.
    /// </param>
    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder target, CancellationToken ct, bool builtInTypesOnly = false)
    {
        var builder = new NpgsqlConnectionStringBuilder(target.ConnectionString)
        {
            // Restores and counts of large tables run longer than Npgsql's 30 s default.
            CommandTimeout = 0,
            Pooling = false,
            ApplicationName = string.IsNullOrEmpty(target.ApplicationName) ? "floyo-dr" : target.ApplicationName,
        };
        var connection = builtInTypesOnly
            ? BuiltInTypesOnly.GetOrAdd(builder.ConnectionString, static cs => new NpgsqlDataSourceBuilder(cs).ConfigureTypeLoading(t => t.EnableTypeLoading(false)).Build()).CreateConnection()
            : new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw Explain(e, target);
        }
    }

    public static RecoveryException Explain(Exception e, NpgsqlConnectionStringBuilder target)
    {
        var where = DatabaseUrl.Describe(target);
        return e switch
        {
            PostgresException { SqlState: "28P01" } => new ConfigurationException($"authentication failed for user '{target.Username}' at {where}: check the password", e),
            PostgresException { SqlState: "28000" } => new ConfigurationException($"user '{target.Username}' may not connect to {where} (pg_hba.conf or role)", e),
            PostgresException { SqlState: "3D000" } => new NotFoundException($"database '{target.Database}' does not exist at {target.Host}:{target.Port}", e),
            PostgresException pg => new UnavailableException($"PostgreSQL at {where} refused: {pg.MessageText} ({pg.SqlState})", e),
            _ when e is SocketException || e.InnerException is SocketException => new UnavailableException($"cannot reach PostgreSQL at {target.Host}:{target.Port}: {(e as SocketException ?? (SocketException)e.InnerException!).SocketErrorCode}", e),
            _ when e is TimeoutException || e.InnerException is TimeoutException => new UnavailableException($"timed out connecting to PostgreSQL at {target.Host}:{target.Port}", e),
            _ => new UnavailableException($"cannot connect to PostgreSQL at {where}: {e.Message}", e),
        };
    }

    public static async Task<bool> DatabaseExistsAsync(NpgsqlConnection admin, string database, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}
