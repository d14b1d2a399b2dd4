using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Cli;

/// <summary>Bad settings and bad arguments: one line beginning "error:", a non-zero exit, and never the password.</summary>
public sealed class CliErrorTests
{
    [Fact]
    public async Task Missing_database_url_is_named()
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path }, "backup", "--full");
        AssertOneLineError(run, "DATABASE_URL is not set", ErrorKind.Configuration);
    }

    [Theory]
    [InlineData("postgresql://user:s3cr3t-pw@/nodb")]
    [InlineData("Host=;Password=s3cr3t-pw;Database")]
    [InlineData("postgresql://user:s3cr3t-pw@localhost:notaport/db")]
    public async Task Malformed_database_url_is_named_without_echoing_it(string url)
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = url, ["BACKUP_DIR"] = dir.Path }, "backup", "--full");
        AssertOneLineError(run, "DATABASE_URL is malformed", ErrorKind.Configuration);
        Assert.DoesNotContain("s3cr3t-pw", run.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_server_is_named()
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = "postgresql://floyo:s3cr3t-pw@127.0.0.1:1/floyo",
            ["BACKUP_DIR"] = dir.Path,
        }, "backup", "--full");
        AssertOneLineError(run, "cannot reach PostgreSQL at 127.0.0.1:1", ErrorKind.Unavailable);
        Assert.DoesNotContain("s3cr3t-pw", run.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_named_and_never_printed()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var server = database.Server;
        var url = $"postgresql://{server.Username}:Wr0ng-Pa55word@{server.Host}:{server.Port}/{database.Name}";
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = url, ["BACKUP_DIR"] = dir.Path }, "backup", "--full");
        AssertOneLineError(run, "authentication failed", ErrorKind.Configuration);
        Assert.DoesNotContain("Wr0ng-Pa55word", run.All, StringComparison.Ordinal);

        // With every log on, still no password anywhere: not in the logs, not in any file written.
        var traced = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = url, ["BACKUP_DIR"] = dir.Path, ["FLOYO_LOG_LEVEL"] = "Trace" }, "backup", "--full");
        Assert.NotEqual(0, traced.ExitCode);
        Assert.StartsWith("error: authentication failed", traced.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("Wr0ng-Pa55word", traced.All, StringComparison.Ordinal);
        foreach (var file in Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("Wr0ng-Pa55word", File.ReadAllText(file), StringComparison.Ordinal);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.dump*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Missing_pg_dump_is_a_clear_error()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        using var bin = new TempDirectory();
        var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path, ("PG_BIN_DIR", bin.Path)), "backup", "--full");
        AssertOneLineError(run, "pg_dump not found", ErrorKind.Configuration);
    }

    [Fact]
    public async Task Pg_dump_older_than_the_server_is_refused()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        using var bin = new TempDirectory();
        FakeTools.Write(bin.Path, "pg_dump", "echo 'pg_dump (PostgreSQL) 9.6.24'");
        var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path, ("PG_BIN_DIR", bin.Path)), "backup", "--full");
        AssertOneLineError(run, "pg_dump is version 9.6 but the server is version 15", ErrorKind.Configuration);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("verifications/x/y.json")]
    [InlineData(".partial/123.part")]
    [InlineData("notes.txt")]
    [InlineData("db_full_20260101_000000.dump.zst.meta.json")]
    public async Task File_outside_the_store_or_not_a_backup_is_refused(string file)
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "notes.txt"), "not a backup");
        foreach (var args in new[] { new[] { "restore", "--file", file, "--target-database", database.Name + "_x" }, ["verify", "--file", file] })
        {
            var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), args);
            AssertOneLineError(run, "as 'floyo-dr list' prints it", ErrorKind.Usage);
        }
        Assert.Equal(10, await database.ScalarAsync<long>("SELECT count(*) FROM users"));
    }

    [Fact]
    public async Task Unknown_arguments_get_one_line()
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path }, "list", "--bogus");
        AssertOneLineError(run, "--bogus", ErrorKind.Usage);
    }

    [Fact]
    public async Task Bad_setting_values_are_named()
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path, ["BACKUP_RETENTION_DAYS"] = "0" }, "list");
        AssertOneLineError(run, "BACKUP_RETENTION_DAYS must be at least 1", ErrorKind.Configuration);
        run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path, ["BACKUP_COMPRESSION"] = "maybe" }, "list");
        AssertOneLineError(run, "BACKUP_COMPRESSION", ErrorKind.Configuration);
    }

    [Fact]
    public async Task Missing_backup_is_not_found()
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path }, "verify", "--file", "db_full_20260101_000000.dump.zst");
        AssertOneLineError(run, "no complete backup named", ErrorKind.NotFound);
        run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path }, "verify", "--latest");
        AssertOneLineError(run, "no good backup", ErrorKind.NotFound);
    }

    [Fact]
    public async Task Contradictory_arguments_are_usage_errors()
    {
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(new Dictionary<string, string?> { ["BACKUP_DIR"] = dir.Path }, "verify", "--latest", "--file", "db_full_20260101_000000.dump.zst");
        AssertOneLineError(run, "give exactly one of --file <backup> or --latest", ErrorKind.Usage);
    }

    /// <summary>A one-line error whose exit code is the kind's: what scripts rely on instead of the message text.</summary>
    internal static void AssertOneLineError(CliResult run, string expected, ErrorKind kind)
    {
        AssertOneLineError(run, expected);
        Assert.True((int)kind == run.ExitCode, $"expected exit {(int)kind} ({kind}), got {run.ExitCode}: {run.All}");
    }

    internal static void AssertOneLineError(CliResult run, string expected)
    {
        Assert.True(run.ExitCode != 0, $"expected failure, got exit 0: {run.All}");
        var lines = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}
