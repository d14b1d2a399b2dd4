using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>Backups and restores with a NOSUPERUSER admin, as on Azure Database for PostgreSQL and most managed services.</summary>
public sealed class ManagedRestoreTests
{
    [Fact]
    public async Task Restore_with_drop_existing_stops_writes_replaces_and_gives_connect_back_as_it_was()
    {
        await using var scene = await ManagedScene.CreateAsync();
        var name = await scene.BackupAsync();
        await scene.Production.ExecuteAsync("INSERT INTO app.accounts VALUES (1000, 'after', 'after@example.com')");
        var aclBefore = await ManagedScene.AclAsync(scene.Production.Name);

        var run = await FloyoDr.RunAsync(scene.Env(), "restore", "--file", name, "--drop-existing");

        Assert.True(run.ExitCode == 0, run.All);
        Assert.Equal(300, await scene.Production.ScalarAsync<long>("SELECT count(*) FROM app.accounts"));
        // Exactly the grants there were: the admin's own CONNECT, added while writes were stopped, is gone again.
        Assert.Equal(aclBefore, await ManagedScene.AclAsync(scene.Production.Name));
        Assert.Equal(scene.Owner, await scene.Production.ScalarAsync<string>("SELECT tableowner::text FROM pg_tables WHERE tablename = 'accounts'"));
        await using var app = await scene.AppSessionAsync();
        await using var write = new NpgsqlCommand("INSERT INTO app.accounts VALUES (2000, 'app', 'app@example.com')", app);
        Assert.Equal(1, await write.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Backup_verify_and_restore_into_a_new_database_keep_the_owners()
    {
        await using var scene = await ManagedScene.CreateAsync();
        var backup = await FloyoDr.RunAsync(scene.Env(), "backup", "--full", "--verify");
        Assert.True(backup.ExitCode == 0, backup.All);
        var name = await scene.BackupAsync();
        var verify = await FloyoDr.RunAsync(scene.Env(), "verify", "--file", name);
        Assert.True(verify.ExitCode == 0, verify.All);

        var copy = scene.Production.Name + "_copy";
        var restore = await FloyoDr.RunAsync(scene.Env(), "restore", "--file", name, "--target-database", copy);

        Assert.True(restore.ExitCode == 0, restore.All);
        var facts = await TestDatabase.FactsOf(TestServers.Primary, copy);
        Assert.Equal(300, facts.Tables.Single().Rows);
        Assert.Equal(scene.Owner, facts.Properties.Owner);
        await using var app = await scene.AppSessionAsync(copy);
        await using var read = new NpgsqlCommand("SELECT count(*) FROM app.accounts", app);
        Assert.Equal(300L, await read.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Restore_onto_a_new_server_creates_the_roles_and_the_admin_joins_only_those()
    {
        await using var scene = await ManagedScene.CreateAsync();
        var name = await scene.BackupAsync();
        var onNewServer = scene.Env(("DATABASE_URL", TestServers.Url(ManagedScene.Alternate, scene.StagingName)));

        var restore = await FloyoDr.RunAsync(onNewServer, "restore", "--file", name);

        Assert.True(restore.ExitCode == 0, restore.All);
        var facts = await TestDatabase.FactsOf(TestServers.Alternate, scene.StagingName);
        Assert.Equal(300, facts.Tables.Single().Rows);
        Assert.Equal(scene.Owner, facts.Properties.Owner);
        await using var alternate = await PgConnector.OpenAsync(TestServers.Alternate, default);
        await using var owner = new NpgsqlCommand($"SELECT tableowner::text FROM pg_tables WHERE tablename = 'accounts'", await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, scene.StagingName), default));
        Assert.Equal(scene.Owner, await owner.ExecuteScalarAsync());
        await using var member = new NpgsqlCommand("SELECT pg_has_role($1, $2, 'MEMBER')", alternate) { Parameters = { new() { Value = ManagedScene.Admin }, new() { Value = scene.Owner } } };
        Assert.Equal(true, await member.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Missing_membership_of_an_owner_is_refused_before_writes_stop_naming_the_grant()
    {
        await using var scene = await ManagedScene.CreateAsync(ownerGranted: false);
        await using (var superuser = await PgConnector.OpenAsync(TestServers.Primary, default))
        {
            // The owner's grant to read is enough for a backup (pg_read_all_data); the restore needs membership.
            await PgConnector.ExecuteAsync(superuser, $"GRANT CONNECT ON DATABASE {scene.Production.Name} TO {ManagedScene.Admin}", default);
        }
        var name = await scene.BackupAsync();
        var aclBefore = await ManagedScene.AclAsync(scene.Production.Name);

        var run = await FloyoDr.RunAsync(scene.Env(), "restore", "--file", name, "--drop-existing");

        Cli.CliErrorTests.AssertOneLineError(run, $"run GRANT \"{scene.Owner}\" TO \"{ManagedScene.Admin}\"; and retry; the restore did not start");
        Assert.DoesNotContain("WRITES", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(aclBefore, await ManagedScene.AclAsync(scene.Production.Name));
        await using var app = await scene.AppSessionAsync();

        await using (var superuser = await PgConnector.OpenAsync(TestServers.Primary, default))
        {
            await PgConnector.ExecuteAsync(superuser, $"GRANT {scene.Owner} TO {ManagedScene.Admin}", default);
        }
        await app.CloseAsync();
        var granted = await FloyoDr.RunAsync(scene.Env(), "restore", "--file", name, "--drop-existing");
        Assert.True(granted.ExitCode == 0, granted.All);
    }

    [Fact]
    public async Task A_superuser_session_on_the_target_is_refused_before_writes_stop()
    {
        await using var scene = await ManagedScene.CreateAsync();
        var name = await scene.BackupAsync();
        var aclBefore = await ManagedScene.AclAsync(scene.Production.Name);
        await using var superuser = await PgConnector.OpenAsync(scene.Production.Connection, default);

        var run = await FloyoDr.RunAsync(scene.Env(), "restore", "--file", name, "--drop-existing");

        Cli.CliErrorTests.AssertOneLineError(run, $"superuser '{TestServers.Primary.Username}' is connected to '{scene.Production.Name}'");
        Assert.Equal(aclBefore, await ManagedScene.AclAsync(scene.Production.Name));
        Assert.Equal(System.Data.ConnectionState.Open, superuser.State);
    }

    [Fact]
    public async Task Backup_by_an_admin_that_cannot_read_every_table_is_refused_naming_pg_read_all_data()
    {
        await using var scene = await ManagedScene.CreateAsync();
        var login = $"ns_plain_{scene.Suffix}";
        await using (var superuser = await PgConnector.OpenAsync(TestServers.Primary, default))
        {
            // A managed admin that was never given pg_read_all_data (nor the owner's role).
            await PgConnector.ExecuteAsync(superuser, $"CREATE ROLE {login} LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD '{TestServers.Primary.Password}' IN ROLE pg_signal_backend", default);
        }
        var env = scene.Env(("DATABASE_URL", TestServers.Url(new NpgsqlConnectionStringBuilder(TestServers.Primary.ConnectionString) { Username = login }, scene.Production.Name)));

        var run = await FloyoDr.RunAsync(env, "backup", "--full");

        Cli.CliErrorTests.AssertOneLineError(run, $"cannot read 1 table(s) of '{scene.Production.Name}' (first: app.accounts); pg_dump must read every table: run GRANT pg_read_all_data TO \"{login}\";");
        Assert.Empty(Directory.GetFiles(scene.BackupDir, "*.dump*"));
    }
}
