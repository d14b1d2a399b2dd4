using System.Text.Json;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Anomalies;

/// <summary>A backup of a gutted database is flagged and never becomes "the latest good backup" until accepted.</summary>
public sealed class AnomalyDetectionTests
{
    [Fact]
    public async Task Backup_after_most_rows_were_deleted_is_flagged_and_skipped_until_accepted()
    {
        await using var database = await Sample.UsersAsync(5000);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var good = await Backup(env, "--verify");

        await database.ExecuteAsync("DELETE FROM users WHERE id > 500");
        await Task.Delay(1100);
        var gutted = await Backup(env);

        var entries = await List(env);
        var flagged = entries.Single(e => e.GetProperty("name").GetString() == gutted);
        Assert.True(flagged.GetProperty("suspect").GetBoolean());
        Assert.Contains("public.users fell from 5000 to 500 rows", flagged.GetProperty("anomalies")[0].GetString(), StringComparison.Ordinal);
        var text = await FloyoDr.RunAsync(env, "list");
        Assert.Contains("SUSPECT", text.StdOut, StringComparison.Ordinal);

        // verify --latest proves the newest GOOD backup, not the gutted one.
        var verify = await FloyoDr.RunAsync(env, "verify", "--latest", "--json");
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.Equal(good, JsonDocument.Parse(verify.StdOut).RootElement.GetProperty("backup").GetString());

        var accept = await FloyoDr.RunAsync(env, "accept", "--file", gutted, "--reason", "purged test users on purpose");
        Assert.True(accept.ExitCode == 0, accept.All);
        Assert.False((await List(env)).Single(e => e.GetProperty("name").GetString() == gutted).GetProperty("suspect").GetBoolean());
        verify = await FloyoDr.RunAsync(env, "verify", "--latest", "--json");
        Assert.Equal(gutted, JsonDocument.Parse(verify.StdOut).RootElement.GetProperty("backup").GetString());
    }

    [Fact]
    public async Task Dropped_table_and_data_that_stops_compressing_are_flagged()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes SELECT g, repeat('floyo note ', 20) FROM generate_series(1, 20000) g;
            CREATE TABLE audit (id int);
            INSERT INTO audit SELECT generate_series(1, 1000);
            """);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        await Backup(env, "--verify");
        // What ransomware leaves: the same rows, now random bytes; and a table gone.
        await database.ExecuteAsync("""
            UPDATE notes SET body = encode(decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex'), 'base64');
            DROP TABLE audit;
            """);
        await Task.Delay(1100);
        var encrypted = await Backup(env);
        var anomalies = (await List(env)).Single(e => e.GetProperty("name").GetString() == encrypted).GetProperty("anomalies")
            .EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Contains(anomalies, a => a.Contains("table public.audit (1000 rows", StringComparison.Ordinal) && a.Contains("is gone", StringComparison.Ordinal));
        Assert.Contains(anomalies, a => a.Contains("no longer compresses", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Accepting_a_backup_that_was_not_flagged_is_refused()
    {
        await using var database = await Sample.UsersAsync(10);
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(database, dir.Path);
        var name = await Backup(env);
        var run = await FloyoDr.RunAsync(env, "accept", "--file", name);
        Cli.CliErrorTests.AssertOneLineError(run, "was not flagged");
    }

    private static async Task<string> Backup(IReadOnlyDictionary<string, string?> env, params string[] extra)
    {
        var run = await FloyoDr.RunAsync(env, ["backup", "--full", "--json", .. extra]);
        Assert.True(run.ExitCode == 0, run.All);
        return JsonDocument.Parse(run.StdOut).RootElement.GetProperty("backup").GetProperty("name").GetString()!;
    }

    private static async Task<List<JsonElement>> List(IReadOnlyDictionary<string, string?> env)
    {
        var run = await FloyoDr.RunAsync(env, "list", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        return [.. JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray()];
    }
}
