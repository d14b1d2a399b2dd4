using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Functions.Tests.Support;

/// <summary>
/// One test's world: a unique database with a small table (or Pagila), an application role that may
/// connect to it, and a private backup folder. Everything is removed on dispose.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    private Scenario(TestDatabase database, TempDirectory folder, string appRole, string appPassword)
    {
        Database = database;
        Folder = folder;
        AppRole = appRole;
        AppPassword = appPassword;
    }

    public TestDatabase Database { get; }

    public TempDirectory Folder { get; }

    public string AppRole { get; }

    public string AppPassword { get; }

    public string BackupDir => Path.Combine(Folder.Path, "backups");

    public static async Task<Scenario> CreateAsync(bool pagila = false, int rows = 500)
    {
        var database = await TestDatabase.CreateAsync();
        var role = $"floyo_app_{Guid.NewGuid().ToString("N")[..10]}";
        var password = Guid.NewGuid().ToString("N");
        await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(database.Server, "postgres"), default))
        {
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {role} LOGIN PASSWORD '{password}'", default);
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(database.Name)} TO {role}", default);
        }
        if (pagila)
        {
            await database.LoadPagilaAsync();
        }
        await database.ExecuteAsync($"""
            CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, made timestamptz DEFAULT now());
            INSERT INTO items (name) SELECT 'item ' || i FROM generate_series(1, {rows}) i;
            GRANT SELECT, INSERT ON items TO {role};
            GRANT USAGE ON SEQUENCE items_id_seq TO {role};
            """);
        return new Scenario(database, new TempDirectory(), role, password);
    }

    public Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = Database.Url,
            ["BACKUP_DIR"] = BackupDir,
            ["FLOYO_WORK_DIR"] = Path.Combine(Folder.Path, "work"),
            ["APP_DB_ROLES"] = AppRole,
            // The HTTP tests say who they are with X-Floyo-Operator, as a local user would.
            ["ALLOW_DECLARED_OPERATOR"] = "true",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>Whether the application role may connect to <paramref name="database"/> (default: the scenario's).</summary>
    public async Task<bool> AppCanConnectAsync(string? database = null)
    {
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(Database.Server, "postgres"), default);
        await using var command = new NpgsqlCommand("SELECT has_database_privilege($1, $2, 'CONNECT')", admin)
        {
            Parameters = { new() { Value = AppRole }, new() { Value = database ?? Database.Name } },
        };
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A session as the application, the way the app would hold one open.</summary>
    public async Task<NpgsqlConnection> OpenAppSessionAsync()
    {
        var builder = new NpgsqlConnectionStringBuilder(Database.Connection.ConnectionString) { Username = AppRole, Password = AppPassword, Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public Task<long> CountItemsAsync() => Database.ScalarAsync<long>("SELECT count(*) FROM items");

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(Database.Server, "postgres"), default))
        {
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {AppRole}", default);
        }
        Folder.Dispose();
    }
}
