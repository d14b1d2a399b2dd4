using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>A restore never touches a database it was not told to replace, and never uses a damaged backup.</summary>
public sealed class RestoreSafetyTests
{
    [Fact]
    public async Task Non_empty_target_is_refused_without_drop_existing_and_replaced_with_it()
    {
        await using var database = await Sample.UsersAsync(100);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await BackupAsync(env);
        await database.ExecuteAsync("INSERT INTO users (email) VALUES ('after-backup@example.com')");

        var refused = await FloyoDr.RunAsync(env, "restore", "--file", name);
        Cli.CliErrorTests.AssertOneLineError(refused, "is not empty: pass --drop-existing", ErrorKind.RefusedForSafety);
        Assert.Equal(101, await database.ScalarAsync<long>("SELECT count(*) FROM users"));

        var replaced = await FloyoDr.RunAsync(env, "restore", "--file", name, "--drop-existing");
        Assert.True(replaced.ExitCode == 0, replaced.All);
        Assert.Equal(100, await database.ScalarAsync<long>("SELECT count(*) FROM users"));
        Assert.Contains("replaced the existing database", replaced.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_target_is_created_and_empty_existing_target_is_used()
    {
        await using var database = await Sample.UsersAsync(50);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await BackupAsync(env);

        var created = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", database.Name + "_new");
        Assert.True(created.ExitCode == 0, created.All);
        Assert.Equal(50, (await TestDatabase.FactsOf(database.Server, database.Name + "_new")).Tables.Single().Rows);

        await using var empty = await TestDatabase.CreateAsync(database.Name + "_empty");
        var intoEmpty = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", empty.Name);
        Assert.True(intoEmpty.ExitCode == 0, intoEmpty.All);
        Assert.Equal(50, await empty.ScalarAsync<long>("SELECT count(*) FROM users"));
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    public async Task Damaged_backup_is_refused_by_verify_and_restore_naming_the_checksum(string damage)
    {
        await using var database = await Sample.UsersAsync(2000);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await BackupAsync(env);
        Damage(Path.Combine(dir.Path, name), damage);
        await database.ExecuteAsync("INSERT INTO users (email) VALUES ('marker@example.com')");

        var verify = await FloyoDr.RunAsync(env, "verify", "--file", name);
        Cli.CliErrorTests.AssertOneLineError(verify, "checksum mismatch", ErrorKind.Integrity);

        var restore = await FloyoDr.RunAsync(env, "restore", "--file", name, "--drop-existing");
        Assert.Equal((int)ErrorKind.Integrity, restore.ExitCode);
        Assert.Contains("checksum mismatch", restore.StdErr, StringComparison.Ordinal);
        Assert.Equal(2001, await database.ScalarAsync<long>("SELECT count(*) FROM users"));

        var fresh = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", database.Name + "_fresh");
        Assert.Contains("checksum mismatch", fresh.StdErr, StringComparison.Ordinal);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname LIKE '{database.Name}\\_%'"));

        var list = await FloyoDr.RunAsync(env, "list", "--json");
        Assert.Contains("\"valid\": false", list.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_without_metadata_is_invisible_and_cannot_be_restored()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await BackupAsync(env);
        File.Delete(Path.Combine(dir.Path, name + ".meta.json"));

        var list = await FloyoDr.RunAsync(env, "list", "--json");
        Assert.Equal("[]", list.StdOut.Trim());
        var restore = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", database.Name + "_x");
        Cli.CliErrorTests.AssertOneLineError(restore, "no complete backup named", ErrorKind.NotFound);
    }

    [Fact]
    public async Task System_databases_are_never_targets()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await BackupAsync(env);
        var run = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", "postgres", "--drop-existing");
        Cli.CliErrorTests.AssertOneLineError(run, "refusing to restore into the system database", ErrorKind.RefusedForSafety);
    }

    internal static async Task<string> BackupAsync(IReadOnlyDictionary<string, string?> env)
    {
        var run = await FloyoDr.RunAsync(env, "backup", "--full", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        using var json = System.Text.Json.JsonDocument.Parse(run.StdOut);
        return json.RootElement.GetProperty("backup").GetProperty("name").GetString()!;
    }

    private static void Damage(string path, string how)
    {
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        if (how == "flip")
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0x01));
        }
        else
        {
            file.SetLength(file.Length * 2 / 3);
        }
    }
}
