using System.Diagnostics;
using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Tests.Support;

/// <summary>A uniquely named database on a test server, dropped (with anything restored beside it) on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(NpgsqlConnectionStringBuilder server, string name)
    {
        Server = server;
        Name = name;
    }

    public NpgsqlConnectionStringBuilder Server { get; }

    public string Name { get; }

    public string Url => TestServers.Url(Server, Name);

    public NpgsqlConnectionStringBuilder Connection => DatabaseUrl.WithDatabase(Server, Name);

    public static async Task<TestDatabase> CreateAsync(string? name = null, NpgsqlConnectionStringBuilder? server = null)
    {
        server ??= TestServers.Primary;
        name ??= $"t_{Guid.NewGuid():N}"[..20];
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), default);
        await PgConnector.ExecuteAsync(admin, $"CREATE DATABASE {PgConnector.Quote(name)}", default);
        return new TestDatabase(server, name);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await PgConnector.OpenAsync(Connection, default);
        await PgConnector.ExecuteAsync(connection, sql, default);
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await PgConnector.OpenAsync(Connection, default);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public Task<DatabaseFacts> FactsAsync() => FactsOf(Server, Name);

    public static async Task<DatabaseFacts> FactsOf(NpgsqlConnectionStringBuilder server, string database)
    {
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, database), default);
        return await DatabaseInspector.CaptureAsync(connection, default);
    }

    /// <summary>Loads the Pagila sample (schema and data) with psql, stopping at the first error.</summary>
    public async Task LoadPagilaAsync()
    {
        // Pagila's objects belong to "postgres"; on the test clusters that is an ordinary role, which
        // also makes every Pagila backup exercise role provisioning on a new server.
        await ExecuteAsync("DO $$ BEGIN CREATE ROLE postgres NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
        foreach (var file in new[] { "pagila-schema.sql", "pagila-data.sql" })
        {
            var info = new ProcessStartInfo("psql") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", Path.Combine(Fixtures.PagilaDirectory, file) })
            {
                info.ArgumentList.Add(arg);
            }
            info.Environment["PGHOST"] = Server.Host;
            info.Environment["PGPORT"] = Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["PGUSER"] = Server.Username;
            info.Environment["PGPASSWORD"] = Server.Password;
            info.Environment["PGDATABASE"] = Name;
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await stdout;
            Assert.True(process.ExitCode == 0, $"psql {file} failed: {stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(Server, "postgres"), default);
        var names = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2", admin)
        {
            Parameters = { new() { Value = Name }, new() { Value = Name.Replace("_", "\\_", StringComparison.Ordinal) + "%" } },
        })
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
        }
        foreach (var name in names)
        {
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {PgConnector.Quote(name)} WITH (FORCE)", default);
        }
    }
}
