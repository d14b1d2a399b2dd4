using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Cli;

/// <summary>A command that needs a client tool fails before it starts anything when the tool is missing or older than the server.</summary>
public sealed class ClientToolPreflightTests
{
    [Fact]
    public async Task Restore_and_verify_with_a_pg_restore_older_than_the_server_fail_at_once_and_touch_nothing()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var backup = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "backup", "--full");
        Assert.True(backup.ExitCode == 0, backup.All);
        var name = Directory.GetFiles(dir.Path, "*.dump.zst").Select(Path.GetFileName).Single()!;

        using var bin = new TempDirectory();
        FakeTools.Real(bin.Path, "pg_dump");
        FakeTools.Real(bin.Path, "pg_basebackup");
        FakeTools.Write(bin.Path, "pg_restore", "echo 'pg_restore (PostgreSQL) 12.0'");
        var env = CliEnvironment.For(database, dir.Path, ("PG_BIN_DIR", bin.Path));

        var restore = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", database.Name + "_new");
        CliErrorTests.AssertOneLineError(restore, "pg_restore is version 12.0 but the server is version 15", ErrorKind.Configuration);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{database.Name}_new'"));

        var verify = await FloyoDr.RunAsync(env, "verify", "--file", name);
        CliErrorTests.AssertOneLineError(verify, "pg_restore is version 12.0 but the server is version 15", ErrorKind.Configuration);
        Assert.Empty(Directory.GetDirectories(dir.Path, "verifications", SearchOption.TopDirectoryOnly).SelectMany(d => Directory.GetFiles(d, "*", SearchOption.AllDirectories)));

    }
}
