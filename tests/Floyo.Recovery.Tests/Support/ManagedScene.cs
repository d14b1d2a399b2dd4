using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Support;

/// <summary>
/// Production as a managed service has it: the database and its objects belong to an owner role, the
/// application logs in through a group, and floyo-dr runs as scripts/services.sh's NOSUPERUSER admin
/// (CREATEDB, CREATEROLE, pg_signal_backend, pg_read_all_data), not as the superuser that set the scene up.
/// </summary>
public sealed class ManagedScene : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();

    private ManagedScene(TestDatabase production, string suffix)
    {
        Production = production;
        Suffix = suffix;
    }

    /// <summary>The NOSUPERUSER admin on the primary cluster (FLOYO_TEST_PG_NS_URL).</summary>
    public static NpgsqlConnectionStringBuilder Primary => Server("FLOYO_TEST_PG_NS_URL");

    /// <summary>The NOSUPERUSER admin on the alternate cluster (FLOYO_TEST_PG2_NS_URL).</summary>
    public static NpgsqlConnectionStringBuilder Alternate => Server("FLOYO_TEST_PG2_NS_URL");

    public static string Admin => Primary.Username!;

    public TestDatabase Production { get; }

    public string Suffix { get; }

    public string Owner => $"ns_owner_{Suffix}";

    public string Group => $"ns_rw_{Suffix}";

    public string AppLogin => $"ns_app_{Suffix}";

    public string AppPassword => $"app-{Suffix}";

    public string BackupDir => _dir.Path;

    public string StagingName => $"ns_staging_{Suffix}";

    /// <summary>floyo-dr's settings: DATABASE_URL as the non-superuser admin.</summary>
    public Dictionary<string, string?> Env(params (string Key, string? Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = TestServers.Url(Primary, Production.Name),
            ["BACKUP_DIR"] = BackupDir,
            ["STAGING_DATABASE_URL"] = TestServers.Url(Alternate, StagingName),
        };
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }
        return env;
    }

    /// <param name="ownerGranted">Whether the admin was made a member of the owner role (the documented grant).</param>
    public static async Task<ManagedScene> CreateAsync(bool ownerGranted = true, int rows = 300)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var owner = $"ns_owner_{suffix}";
        await using (var admin = await PgConnector.OpenAsync(TestServers.Primary, default))
        {
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {owner} NOLOGIN", default);
        }
        var production = await TestDatabase.CreateAsync($"ns_{suffix}");
        var scene = new ManagedScene(production, suffix);
        await production.ExecuteAsync($"""
            ALTER DATABASE {production.Name} OWNER TO {owner};
            CREATE ROLE {scene.Group} NOLOGIN;
            CREATE ROLE {scene.AppLogin} LOGIN PASSWORD '{scene.AppPassword}' IN ROLE {scene.Group};
            SET ROLE {owner};
            CREATE SCHEMA app;
            CREATE TABLE app.accounts (id int PRIMARY KEY, name text, email text);
            CREATE INDEX accounts_name ON app.accounts (name);
            INSERT INTO app.accounts SELECT g, 'name ' || g, 'a' || g || '@example.com' FROM generate_series(1, {rows}) g;
            GRANT USAGE ON SCHEMA app TO {scene.Group};
            GRANT SELECT, INSERT ON app.accounts TO {scene.Group};
            RESET ROLE;
            {(ownerGranted ? $"GRANT {owner} TO {Admin};" : "")}
            """);
        return scene;
    }

    /// <summary>A session of the application's login on <paramref name="database"/> (production's by default).</summary>
    public async Task<NpgsqlConnection> AppSessionAsync(string? database = null, NpgsqlConnectionStringBuilder? server = null)
    {
        var builder = new NpgsqlConnectionStringBuilder((server ?? TestServers.Primary).ConnectionString)
        {
            Database = database ?? Production.Name, Username = AppLogin, Password = AppPassword, Pooling = false,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// Who holds which privilege on the database, the owner's implicit ones included, sorted: what the ACL means,
    /// whether PostgreSQL stores it as the default or spelled out (revoking and re-granting spells it out).
    /// </summary>
    public static async Task<string> AclAsync(string database, NpgsqlConnectionStringBuilder? server = null)
    {
        await using var admin = await PgConnector.OpenAsync(server ?? TestServers.Primary, default);
        await using var command = new NpgsqlCommand("""
            SELECT string_agg(p, ',' ORDER BY p) FROM (
                SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' || a.privilege_type AS p
                FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = $1) s
            """, admin)
        {
            Parameters = { new() { Value = database } },
        };
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public async Task<string> BackupAsync(params string[] extra)
    {
        var run = await FloyoDr.RunAsync(Env(), ["backup", "--full", "--json", .. extra]);
        Assert.True(run.ExitCode == 0, run.All);
        return System.Text.Json.JsonDocument.Parse(run.StdOut).RootElement.GetProperty("backup").GetProperty("name").GetString()!;
    }

    private static NpgsqlConnectionStringBuilder Server(string variable) =>
        DatabaseUrl.Parse(Environment.GetEnvironmentVariable(variable)
            ?? throw new InvalidOperationException($"{variable} is not set: run the suite with scripts/test.sh (scripts/services.sh creates the non-superuser admin)"), variable);

    public async ValueTask DisposeAsync()
    {
        await Production.DisposeAsync();
        await using (var alternate = await PgConnector.OpenAsync(TestServers.Alternate, default))
        {
            await PgConnector.ExecuteAsync(alternate, $"DROP DATABASE IF EXISTS {PgConnector.Quote(StagingName)} WITH (FORCE)", default);
        }
        _dir.Dispose();
    }
}
