using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Backups;

public sealed class UnusualNamesTests
{
    [Fact]
    public async Task Quotes_spaces_and_non_ascii_letters_survive_backup_and_restore()
    {
        var database = $"Floyo \"Ünïcødé\" {Guid.NewGuid().ToString("N")[..6]} Straße";
        await using var source = await TestDatabase.CreateAsync(database);
        await source.ExecuteAsync(""""
            CREATE SCHEMA "Schéma ""x""";
            CREATE TABLE "Schéma ""x"""."Tàble with ""quotes"" and spaces" ("Ключ" int PRIMARY KEY, "値" text);
            INSERT INTO "Schéma ""x"""."Tàble with ""quotes"" and spaces" SELECT g, 'ß' || g FROM generate_series(1, 321) g;
            CREATE VIEW "Schéma ""x"""."Vüe" AS SELECT count(*) FROM "Schéma ""x"""."Tàble with ""quotes"" and spaces";
            """");
        using var dir = new TempDirectory();
        var env = CliEnvironment.For(source, dir.Path);
        var backup = await FloyoDr.RunAsync(env, "backup", "--full", "--verify", "--json");
        Assert.True(backup.ExitCode == 0, backup.All);
        var name = System.Text.Json.JsonDocument.Parse(backup.StdOut).RootElement.GetProperty("backup").GetProperty("name").GetString()!;
        Assert.StartsWith("Floyo--Ünïcødé-", name, StringComparison.Ordinal);

        var target = database + " copy";
        var restore = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", target);
        Assert.True(restore.ExitCode == 0, restore.All);
        var facts = await TestDatabase.FactsOf(source.Server, target);
        var table = Assert.Single(facts.Tables);
        Assert.Equal(("Schéma \"x\"", "Tàble with \"quotes\" and spaces", 321L), (table.Schema, table.Name, table.Rows));
        Assert.Equal(1, facts.ObjectCounts["views"]);
    }
}
