using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.NonSuperuser;

/// <summary>Restores with a NOSUPERUSER admin, as on Azure Database for PostgreSQL and most managed services.</summary>
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
        Assert.Equal(aclBefore, await ManagedScene.AclAsync(scene.Production.Name));
        Assert.Equal(scene.Owner, await scene.Production.ScalarAsync<string>("SELECT tableowner::text FROM pg_tables WHERE tablename = 'accounts'"));
        await using var app = await scene.AppSessionAsync();
        await using var write = new Npgsql.NpgsqlCommand("INSERT INTO app.accounts VALUES (2000, 'app', 'app@example.com')", app);
        Assert.Equal(1, await write.ExecuteNonQueryAsync());
    }
}
