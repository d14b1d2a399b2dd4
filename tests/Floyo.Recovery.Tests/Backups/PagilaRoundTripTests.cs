using Floyo.Recovery.Backups;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Backups;

/// <summary>The real sample schema (partitions, triggers, domains, a materialized view) through backup, verify and restore.</summary>
public sealed class PagilaRoundTripTests
{
    [Fact]
    public async Task Restored_copy_has_the_same_rows_objects_and_sequence_values_as_the_source()
    {
        await using var source = await TestDatabase.CreateAsync();
        await source.LoadPagilaAsync();
        using var dir = new TempDirectory();
        await using var engine = Engine.Create(CliEnvironment.Settings(source, dir.Path));

        var backup = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        var before = await source.FactsAsync();
        var payments = await source.ScalarAsync<long>("SELECT count(*) FROM payment");
        Assert.True(payments > 10000);
        Assert.Equal(payments, backup.Metadata.Facts.Tables.Where(t => t.Name.StartsWith("payment_p", StringComparison.Ordinal)).Sum(t => t.Rows));
        Assert.Equal(before.Tables, backup.Metadata.Facts.Tables);

        var entry = await engine.GetRequiredService<BackupCatalog>().FindAsync(backup.Metadata.Name, default);
        var verification = await engine.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, default);
        Assert.True(verification.Passed, string.Join("; ", verification.Problems));

        var target = source.Name + "_copy";
        var result = await engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(backup.Metadata.Name, target), null, default);
        Assert.Equal(target, result.TargetDatabase);

        var restored = await TestDatabase.FactsOf(source.Server, target);
        Assert.Equal(before.Tables, restored.Tables);
        Assert.Equal(before.ObjectCounts, restored.ObjectCounts);
        Assert.Equal(before.Sequences, restored.Sequences);
        Assert.True(before.ObjectCounts["materialized_views"] > 0 && before.ObjectCounts["triggers"] > 0 && before.ObjectCounts["functions"] > 0);

        var listed = await engine.GetRequiredService<BackupCatalog>().ListAsync(default);
        Assert.True(Assert.Single(listed).Verified);
    }

    [Fact]
    public async Task Metadata_records_what_the_plan_requires()
    {
        await using var source = await TestDatabase.CreateAsync();
        await source.LoadPagilaAsync();
        using var dir = new TempDirectory();
        var run = await FloyoDr.RunAsync(CliEnvironment.For(source, dir.Path), "backup", "--full");
        Assert.True(run.ExitCode == 0, run.All);

        var name = Assert.Single(Directory.GetFiles(dir.Path, "*.meta.json"));
        Assert.Matches(@"_full_\d{8}_\d{6}\.dump\.zst\.meta\.json$", name);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(name));
        var root = json.RootElement;
        foreach (var field in new[] { "type", "timestamp", "database", "sizeBytes", "compression", "sha256", "serverVersion", "pgDumpVersion", "durationSeconds" })
        {
            Assert.True(root.TryGetProperty(field, out _), $"metadata lacks {field}");
        }
        Assert.Equal("full", root.GetProperty("type").GetString());
        Assert.Equal(source.Name, root.GetProperty("database").GetString());
        Assert.True(root.GetProperty("facts").GetProperty("tables").GetArrayLength() > 10);
        Assert.Equal(new FileInfo(name[..^".meta.json".Length]).Length, root.GetProperty("sizeBytes").GetInt64());
        Assert.DoesNotContain(source.Server.Password!, File.ReadAllText(name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_uncompressed_backup_is_stored_as_pg_dump_wrote_it_and_restores()
    {
        await using var source = await TestDatabase.CreateAsync();
        await source.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 500) g");
        using var dir = new TempDirectory();
        var environment = CliEnvironment.For(source, dir.Path, ("BACKUP_COMPRESSION", "false"));
        var run = await FloyoDr.RunAsync(environment, "backup", "--full");
        Assert.True(run.ExitCode == 0, run.All);

        var dump = Assert.Single(Directory.GetFiles(dir.Path, "*.dump"));
        Assert.Equal("PGDMP"u8.ToArray(), File.ReadAllBytes(dump)[..5]);
        var target = source.Name + "_plain";
        run = await FloyoDr.RunAsync(environment, "restore", "--file", Path.GetFileName(dump), "--target-database", target);
        Assert.True(run.ExitCode == 0, run.All);
        var restored = await TestDatabase.FactsOf(source.Server, target);
        Assert.Equal(500L, Assert.Single(restored.Tables).Rows);
    }
}
