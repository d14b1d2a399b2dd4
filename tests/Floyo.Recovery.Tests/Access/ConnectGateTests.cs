using Floyo.Recovery.Access;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Tests.Access;

/// <summary>The one gate both the restore workflow and breach isolation use, against the real server.</summary>
public sealed class ConnectGateTests
{
    private sealed class World : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();

        public required TestDatabase Database { get; init; }

        public required string Prefix { get; init; }

        public string Group => Prefix + "_grp";

        public string Blue => Prefix + "_blue";

        public string Green => Prefix + "_green";

        public string Reporting => Prefix + "_rep";

        public string Password { get; } = Guid.NewGuid().ToString("N");

        public ServiceProvider Engine(params (string Key, string Value)[] extra)
        {
            var settings = new Dictionary<string, string?>
            {
                ["DATABASE_URL"] = Database.Url,
                ["BACKUP_DIR"] = Path.Combine(_dir.Path, "backups"),
                ["APP_DB_GROUP_ROLE"] = Group,
                ["APP_DB_BLUE_ROLE"] = Blue,
                ["APP_DB_GREEN_ROLE"] = Green,
            };
            foreach (var (key, value) in extra)
            {
                settings[key] = value;
            }
            return Support.Engine.Create(settings);
        }

        /// <summary>The group role and an unrelated reporting login, both with explicit CONNECT; blue and green are never created.</summary>
        public static async Task<World> CreateAsync()
        {
            var world = new World { Database = await TestDatabase.CreateAsync(), Prefix = $"fdg_{Guid.NewGuid():N}"[..14] };
            await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {world.Group} LOGIN PASSWORD '{world.Password}'", default);
            await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {world.Reporting} LOGIN PASSWORD '{world.Password}'", default);
            await PgConnector.ExecuteAsync(admin, $"GRANT CONNECT ON DATABASE {PgConnector.Quote(world.Database.Name)} TO {world.Group}, {world.Reporting}", default);
            return world;
        }

        public async Task<NpgsqlConnection> SessionAsync(string role)
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.Connection.ConnectionString) { Username = role, Password = Password, Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            return connection;
        }

        /// <summary>The database's ACL as a sorted list: re-granting may change the order of entries, not their meaning.</summary>
        public async Task<string> AclAsync()
        {
            await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
            await using var command = new NpgsqlCommand("SELECT coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(datacl) a), 'default') FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = Database.Name } } };
            return (string)(await command.ExecuteScalarAsync())!;
        }

        public async Task<bool> CanConnectAsync(string role)
        {
            await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
            await using var command = new NpgsqlCommand("SELECT has_database_privilege($1, $2, 'CONNECT')", admin) { Parameters = { new() { Value = role }, new() { Value = Database.Name } } };
            return (bool)(await command.ExecuteScalarAsync())!;
        }

        public async ValueTask DisposeAsync()
        {
            await Database.DisposeAsync();
            await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
            await LoginRolesForTests.DropAsync(admin, Blue, Group, Reporting);
            _dir.Dispose();
        }
    }

    private static async Task<bool> IsOpenAsync(NpgsqlConnection session)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT 1", session);
            await command.ExecuteScalarAsync();
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_restore_with_APP_DB_ROLES_unset_shuts_out_the_default_roles_and_everyone_else_then_gives_back_exactly_the_grants()
    {
        await using var world = await World.CreateAsync();
        await using var engine = world.Engine();
        var gate = engine.GetRequiredService<ConnectGate>();
        var (roles, named) = engine.GetRequiredService<IOptions<WorkflowOptions>>().Value.AppRolesOrDefault(engine.GetRequiredService<IOptions<RotationOptions>>().Value);
        Assert.Equal([world.Group, world.Blue, world.Green], roles);
        Assert.False(named);
        var before = await world.AclAsync();
        await using var app = await world.SessionAsync(world.Group);
        await using var reporting = await world.SessionAsync(world.Reporting);

        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        var closed = await gate.CloseAsync(admin, "runs/write-freezes/test-1.json", world.Database.Name, GatePolicy.ForRestore(roles, named), default);

        Assert.Equal([world.Group], closed.Record.Roles);
        Assert.Equal([world.Blue, world.Green], closed.Record.MissingRoles);
        Assert.Contains(ConnectGate.Public, closed.Record.Revoked);
        Assert.Contains(world.Reporting, closed.Record.Revoked);
        Assert.Empty(closed.StillCanConnect);
        Assert.Equal(2, closed.SessionsEnded);
        Assert.False(await IsOpenAsync(app));
        Assert.False(await IsOpenAsync(reporting));
        Assert.False(await world.CanConnectAsync(world.Group));
        Assert.False(await world.CanConnectAsync(world.Reporting));

        // A second attempt (a retried activity) finds CONNECT gone but keeps the first record of who had it.
        var again = await gate.CloseAsync(admin, "runs/write-freezes/test-1.json", world.Database.Name, GatePolicy.ForRestore(roles, named), default);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(closed.Record), System.Text.Json.JsonSerializer.Serialize(again.Record));

        await gate.ReopenAsync(admin, again.Record, default);
        Assert.Equal(before, await world.AclAsync());
    }

    [Fact]
    public async Task Named_roles_are_checked_before_anything_changes()
    {
        await using var world = await World.CreateAsync();
        await using var engine = world.Engine(("APP_DB_ROLES", ""));
        var gate = engine.GetRequiredService<ConnectGate>();
        var before = await world.AclAsync();
        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);

        var missing = await Assert.ThrowsAnyAsync<RecoveryException>(() =>
            gate.CloseAsync(admin, "runs/write-freezes/test-2.json", world.Database.Name, GatePolicy.ForRestore([world.Group, world.Blue], named: true), default));
        Assert.StartsWith($"APP_DB_ROLES names role '{world.Blue}', which does not exist on ", missing.Message, StringComparison.Ordinal);
        var super = await Assert.ThrowsAnyAsync<RecoveryException>(() =>
            gate.CloseAsync(admin, "runs/write-freezes/test-3.json", world.Database.Name, GatePolicy.ForRestore([TestServers.Primary.Username!], named: true), default));
        Assert.Contains("a superuser: revoking CONNECT cannot stop its writes; nothing was changed", super.Message, StringComparison.Ordinal);

        Assert.Equal(before, await world.AclAsync());
        Assert.Null(await gate.ReadAsync("runs/write-freezes/test-2.json", default));
    }

    [Fact]
    public async Task Isolation_takes_connect_only_from_the_application_roles_and_public_and_reports_what_it_cannot_close()
    {
        await using var world = await World.CreateAsync();
        await using var engine = world.Engine();
        var gate = engine.GetRequiredService<ConnectGate>();
        var before = await world.AclAsync();
        await using var reporting = await world.SessionAsync(world.Reporting);
        await using var app = await world.SessionAsync(world.Group);
        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        // Blue connects through its membership of the reporting role, which isolation does not touch.
        await PgConnector.ExecuteAsync(admin, $"CREATE ROLE {world.Blue} LOGIN IN ROLE {world.Reporting}", default);

        var closed = await gate.CloseAsync(admin, "incidents/test/isolation.json", world.Database.Name,
            GatePolicy.ForIsolation([world.Group, world.Blue, world.Green], revokePublic: true), default);

        Assert.Equal([world.Group, ConnectGate.Public], closed.Record.Revoked);
        Assert.Equal([world.Green], closed.Record.MissingRoles);
        Assert.Equal([world.Blue], closed.StillCanConnect);
        Assert.False(await IsOpenAsync(app));
        Assert.True(await IsOpenAsync(reporting), "isolation leaves roles outside the application alone");
        Assert.True(await world.CanConnectAsync(world.Reporting));

        await gate.ReopenAsync(admin, closed.Record, default);
        Assert.Equal(before, await world.AclAsync());
    }

    [Fact]
    public async Task A_damaged_gate_record_stops_with_one_line_naming_it_and_is_never_read_as_absent()
    {
        // Read as absent, a rerun would capture the grants after they were revoked and "give back" the closed state.
        using var dir = new TempDirectory();
        var store = new Floyo.Recovery.Storage.FilesystemStore(dir.Path);
        await store.WriteAllAsync("runs/gates/restore-1.json", "{"u8.ToArray(), Floyo.Recovery.Storage.ObjectRetention.None, default);
        var gate = new ConnectGate(store, TimeProvider.System);

        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => gate.ReadAsync("runs/gates/restore-1.json", default));
        Assert.Contains("runs/gates/restore-1.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not readable JSON", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Null(await gate.ReadAsync("runs/gates/restore-2.json", default));
    }
}
