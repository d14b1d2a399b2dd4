using System.Collections.Concurrent;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Secrets;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Floyo.Recovery.Tests.Rotation;

/// <summary>
/// A private application setup on the shared server: a fresh database, uniquely named group/blue/green
/// roles (roles are cluster-wide, other suites run beside us), a secret store (the owner-only file or
/// the Key Vault fake), and an engine wired to them. Dropped on dispose.
/// </summary>
public sealed class RotationScenario : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();

    private RotationScenario(TestDatabase database, string prefix, string storeKind)
    {
        Database = database;
        Group = prefix + "_grp";
        Blue = prefix + "_blue";
        Green = prefix + "_green";
        StoreKind = storeKind;
        Vault = storeKind == "keyvault" ? new FakeKeyVault() : null;
    }

    public TestDatabase Database { get; }

    public string Group { get; }

    public string Blue { get; }

    public string Green { get; }

    public string StoreKind { get; }

    public FakeKeyVault? Vault { get; }

    public string SecretsFile => Path.Combine(_dir.Path, "secrets.json");

    public string BackupDir => Path.Combine(_dir.Path, "backups");

    public CapturedLogs Logs { get; } = new();

    public const string Secret = "floyo-app-db";

    public static async Task<RotationScenario> CreateAsync(string storeKind = "file")
    {
        var prefix = $"fdr_{Guid.NewGuid():N}"[..16];
        var scenario = new RotationScenario(await TestDatabase.CreateAsync(), prefix, storeKind);
        await scenario.Database.ExecuteAsync("CREATE TABLE notes (id serial PRIMARY KEY, body text)");
        return scenario;
    }

    public Dictionary<string, string?> Settings(double graceSeconds) => new()
    {
        ["DATABASE_URL"] = Database.Url,
        ["APP_DB_SECRET"] = Secret,
        ["APP_DB_GROUP_ROLE"] = Group,
        ["APP_DB_BLUE_ROLE"] = Blue,
        ["APP_DB_GREEN_ROLE"] = Green,
        ["ROTATION_GRACE_SECONDS"] = graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["FLOYO_SECRETS_FILE"] = SecretsFile,
        ["SECRET_STORE"] = "file",
        ["BACKUP_DIR"] = BackupDir,
        ["FLOYO_WORK_DIR"] = Path.Combine(_dir.Path, "work"),
    };

    /// <summary>An engine on this scenario's store; <paramref name="checkpoint"/> lets a test stop it after any step.</summary>
    /// <param name="overrides">Settings that replace the scenario's (another admin in DATABASE_URL, for example).</param>
    public ServiceProvider Engine(double graceSeconds, IRotationCheckpoint? checkpoint = null, TimeProvider? clock = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = Settings(graceSeconds);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        services.AddFloyoRecovery();
        if (Vault is not null)
        {
            services.AddSingleton<ISecretStore>(Vault.Store());
        }
        if (checkpoint is not null)
        {
            services.AddSingleton(checkpoint);
        }
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    /// <summary>floyo-dr credentials init, then what the application's migrations would grant to the group.</summary>
    public async Task InitAsync(ServiceProvider engine)
    {
        await engine.GetRequiredService<Floyo.Recovery.Rotation.CredentialProvisioner>().InitAsync(default);
        await GrantAsync();
    }

    public Task GrantAsync() => Database.ExecuteAsync($"GRANT SELECT, INSERT ON notes TO {Group}; GRANT USAGE ON SEQUENCE notes_id_seq TO {Group}");

    public ISecretStore Store(ServiceProvider engine) => engine.GetRequiredService<ISecretStore>();

    public NpgsqlConnectionStringBuilder AppConnection(DatabaseCredential credential) => new(DatabaseUrl.WithDatabase(TestServers.Primary, Database.Name).ConnectionString)
    {
        Username = credential.Username,
        Password = credential.Password,
        Pooling = false,
        Timeout = 10,
    };

    /// <summary>Logs in with a credential: null when it works, else the SQLSTATE (28P01 = wrong password).</summary>
    public async Task<string?> TryLoginAsync(DatabaseCredential credential)
    {
        try
        {
            await using var connection = new NpgsqlConnection(AppConnection(credential).ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM notes", connection);
            await command.ExecuteScalarAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }

    /// <summary>Every enabled version of the application secret, with its credential.</summary>
    public async Task<List<(SecretVersion Version, DatabaseCredential Credential)>> EnabledCredentialsAsync(ISecretStore store)
    {
        var result = new List<(SecretVersion, DatabaseCredential)>();
        foreach (var version in await store.ListVersionsAsync(Secret, default))
        {
            if (version.Enabled)
            {
                var value = await store.GetVersionAsync(Secret, version.Version, default);
                Assert.True(DatabaseCredential.TryParse(value!.Value, out var credential));
                result.Add((version, credential!));
            }
        }
        return result;
    }

    /// <summary>Every value the store has ever held (disabled versions too): what must never be printed.</summary>
    public async Task<List<string>> AllSecretValuesAsync(ISecretStore store)
    {
        if (Vault is not null)
        {
            return [.. Vault.AllValues()];
        }
        var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(SecretsFile));
        var values = new List<string>();
        foreach (var secret in json.RootElement.GetProperty("secrets").EnumerateObject())
        {
            foreach (var version in secret.Value.GetProperty("versions").EnumerateArray())
            {
                var value = version.GetProperty("value").GetString()!;
                values.Add(value);
                if (DatabaseCredential.TryParse(value, out var credential))
                {
                    values.Add(credential!.Password);
                }
            }
        }
        return values;
    }

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        await LoginRolesForTests.DropAsync(admin, Blue, Green, Group);
        _dir.Dispose();
    }
}

public static class LoginRolesForTests
{
    public static async Task CreateAsync(NpgsqlConnection admin, string sql) => await PgConnector.ExecuteAsync(admin, sql, default);

    public static async Task DropAsync(NpgsqlConnection admin, params string[] roles)
    {
        foreach (var role in roles)
        {
            await PgConnector.ExecuteAsync(admin, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {PgConnector.Literal(role)}", default);
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {PgConnector.Quote(role)}", default);
        }
    }
}

/// <summary>Every log line of every category, formatted with its exception, for searching.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public string All => string.Join("\n", Lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
    }
}

/// <summary>Stops a rotation after its k-th step, as a crash there would (nothing after it runs).</summary>
public sealed class CrashAfter(int steps) : IRotationCheckpoint
{
    private int _reached;

    public List<string> Reached { get; } = [];

    public ValueTask ReachedAsync(RotationPlan plan, string step, CancellationToken ct)
    {
        Reached.Add($"{plan.Kind}:{step}");
        if (++_reached == steps)
        {
            throw new SimulatedCrash(step);
        }
        return ValueTask.CompletedTask;
    }
}

public sealed class SimulatedCrash(string step) : Exception($"simulated crash after {step}");
