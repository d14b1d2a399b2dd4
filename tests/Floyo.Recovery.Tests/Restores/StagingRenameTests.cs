using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>
/// Issue 10, item 10: a session held on the staging copy when it is renamed into place. The copy must not be
/// open to the application while it loads, sessions on it are ended before the rename, and if the rename
/// still fails the original is put back under its own name, open as before, with the copy kept.
/// </summary>
public sealed class StagingRenameTests
{
    [Fact]
    public async Task An_application_login_never_gets_onto_the_staging_copy_and_the_swap_completes()
    {
        await using var database = await Sample.UsersAsync(20000);
        var login = $"floyo_app_{Guid.NewGuid().ToString("N")[..8]}";
        var password = Guid.NewGuid().ToString("N");
        await database.ExecuteAsync($"CREATE ROLE {login} LOGIN PASSWORD '{password}'");
        try
        {
            using var dir = new TempDirectory();
            await using var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path));
            var backup = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
            await database.ExecuteAsync("INSERT INTO users (email) VALUES ('after-backup@example.com')");

            // The application (a member of PUBLIC) connects to the copy the moment it exists, and stays.
            var app = new NpgsqlConnectionStringBuilder(database.Server.ConnectionString) { Username = login, Password = password };
            Exception? failure;
            bool connected;
            await using (var holder = StagingHolder.Start(database.Server, app, database.Name))
            {
                failure = await Record.ExceptionAsync(() => engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(backup, DropExisting: true), null, default));
                connected = holder.Connected;
            }

            var (exists, allowsConnections) = await StateAsync(database.Server, database.Name);
            Assert.True(exists, $"'{database.Name}' was left renamed away ({failure?.Message})");
            Assert.True(allowsConnections, $"'{database.Name}' was left with connections disallowed ({failure?.Message})");
            Assert.False(connected, "the application's login held a session on the staging copy while it loaded");
            Assert.Null(failure);
            Assert.Equal(20000L, await database.ScalarAsync<long>("SELECT count(*) FROM users"));
            Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname LIKE {PgConnector.Literal(Escape(database.Name) + "\\_floyo\\_%")}"));
            // The restored database is open to PUBLIC like any new one: the copy was closed only while it loaded.
            Assert.True(await database.ScalarAsync<bool>($"SELECT has_database_privilege({PgConnector.Literal(login)}, current_database(), 'CONNECT')"));
        }
        finally
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(database.Server, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {login}", default);
        }
    }

    /// <summary>
    /// A managed server's admin (no superuser: CREATEDB, CREATEROLE, pg_signal_backend) cannot end a superuser's
    /// session, such as the provider's maintenance connection; one held on the copy makes the final rename fail.
    /// </summary>
    [Fact]
    public async Task When_the_copy_cannot_take_the_name_the_original_is_put_back_as_it_was_and_the_copy_kept()
    {
        var adminRole = $"floyo_ns_{Guid.NewGuid().ToString("N")[..8]}";
        var adminPassword = Guid.NewGuid().ToString("N");
        await using (var root = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default))
        {
            await PgConnector.ExecuteAsync(root, $"CREATE ROLE {adminRole} LOGIN CREATEDB CREATEROLE PASSWORD '{adminPassword}'; GRANT pg_signal_backend TO {adminRole}", default);
        }
        var managed = new NpgsqlConnectionStringBuilder(TestServers.Primary.ConnectionString) { Username = adminRole, Password = adminPassword };
        TestDatabase? database = null;
        try
        {
            database = await TestDatabase.CreateAsync(server: managed);
            await database.ExecuteAsync("""
                CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);
                INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 5000) g;
                """);
            using var dir = new TempDirectory();
            await using var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path));
            var backup = (await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
            await database.ExecuteAsync("INSERT INTO users (email) VALUES ('after-backup@example.com')");

            Exception? failure;
            await using (var holder = StagingHolder.Start(TestServers.Primary, TestServers.Primary, database.Name))
            {
                failure = await Record.ExceptionAsync(() => engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(backup, DropExisting: true), null, default));
                Assert.True(holder.Connected, $"the superuser's session never reached the staging copy ({failure?.Message})");
            }

            var (exists, allowsConnections) = await StateAsync(TestServers.Primary, database.Name);
            Assert.True(exists, $"'{database.Name}' was left renamed away ({failure?.Message})");
            Assert.True(allowsConnections, $"'{database.Name}' was left with connections disallowed ({failure?.Message})");
            Assert.Equal(5001L, await database.ScalarAsync<long>("SELECT count(*) FROM users"));

            var error = Assert.IsType<StagingKeptException>(failure);
            Assert.DoesNotContain('\n', error.Message);
            Assert.Contains($"'{database.Name}' was put back as it was", error.Message, StringComparison.Ordinal);
            Assert.Contains($"kept, closed to connections, as '{error.Staging}'", error.Message, StringComparison.Ordinal);
            Assert.True((await StateAsync(TestServers.Primary, error.Staging)).Exists, $"the restored copy '{error.Staging}' was dropped");
        }
        finally
        {
            if (database is not null)
            {
                await using var root = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default);
                await PgConnector.ExecuteAsync(root, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE {PgConnector.Literal(Escape(database.Name) + "%")}", default);
                await PgConnector.ExecuteAsync(root, $"UPDATE pg_database SET datallowconn = true WHERE datname LIKE {PgConnector.Literal(Escape(database.Name) + "%")}", default);
                await database.DisposeAsync();
            }
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Primary, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {adminRole}", default);
        }
    }

    private static string Escape(string name) => name.Replace("_", "\\_", StringComparison.Ordinal);

    private static async Task<(bool Exists, bool AllowsConnections)> StateAsync(NpgsqlConnectionStringBuilder server, string database)
    {
        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), default);
        await using var command = new NpgsqlCommand("SELECT datallowconn FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } };
        return await command.ExecuteScalarAsync() is bool allows ? (true, allows) : (false, false);
    }

    /// <summary>
    /// Watches pg_database for the restore's staging copy of <c>target</c> and opens a session on it as
    /// <c>login</c> the moment it exists (retrying while it is refused), then holds it until disposed.
    /// </summary>
    private sealed class StagingHolder : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _watching;
        private NpgsqlConnection? _session;

        private StagingHolder(NpgsqlConnectionStringBuilder server, NpgsqlConnectionStringBuilder login, string target) =>
            _watching = WatchAsync(server, login, Escape(target) + "\\_floyo\\_restore\\_%");

        public bool Connected => Volatile.Read(ref _session) is not null;

        public static StagingHolder Start(NpgsqlConnectionStringBuilder server, NpgsqlConnectionStringBuilder login, string target) => new(server, login, target);

        private async Task WatchAsync(NpgsqlConnectionStringBuilder server, NpgsqlConnectionStringBuilder login, string pattern)
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, "postgres"), default);
            while (!_stop.IsCancellationRequested)
            {
                await using (var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE $1", admin) { Parameters = { new() { Value = pattern } } })
                {
                    if (await command.ExecuteScalarAsync() is string staging)
                    {
                        var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(login.ConnectionString) { Database = staging, Pooling = false }.ConnectionString);
                        try
                        {
                            await session.OpenAsync(_stop.Token);
                            Volatile.Write(ref _session, session);
                            return;
                        }
                        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
                        {
                            // Refused (no CONNECT, connections disallowed) or gone: keep watching.
                            await session.DisposeAsync();
                        }
                    }
                }
                await Task.Delay(5);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _watching;
            }
            catch (OperationCanceledException)
            {
            }
            if (_session is not null)
            {
                await _session.DisposeAsync();
            }
            _stop.Dispose();
        }
    }
}
