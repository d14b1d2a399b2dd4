using System.Text.Json;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Storage;

/// <summary>The real floyo-dr binary with BACKUP_STORE=blob against Azurite: the same commands, the same contract.</summary>
public sealed class BlobCliTests
{
    private static Dictionary<string, string?> Env(TestDatabase db, BlobTestContainer container) => new()
    {
        ["DATABASE_URL"] = db.Url,
        ["BACKUP_STORE"] = "blob",
        ["BACKUP_BLOB_CONNECTION_STRING"] = container.ConnectionString,
        ["BACKUP_BLOB_CONTAINER"] = container.Name,
        ["BACKUP_IMMUTABILITY_MODE"] = "off",
    };

    private static JsonElement[] Backups(CliResult list)
    {
        Assert.True(list.ExitCode == 0, list.All);
        return [.. JsonDocument.Parse(list.StdOut).RootElement.EnumerateArray()];
    }

    [Fact]
    public async Task Backup_list_verify_restore_and_cleanup_work_against_blob_storage_end_to_end()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.LoadPagilaAsync();
        await using var container = new BlobTestContainer();
        var env = Env(db, container);

        var backup = await FloyoDr.RunAsync(env, "backup", "--full");
        Assert.True(backup.ExitCode == 0, backup.All);
        var entry = Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--json")));
        var name = entry.GetProperty("name").GetString()!;
        Assert.True(entry.GetProperty("valid").GetBoolean());
        Assert.Equal("not configured", entry.GetProperty("copies").GetProperty("secondary").GetString());

        var verify = await FloyoDr.RunAsync(env, "verify", "--file", name);
        Assert.True(verify.ExitCode == 0, verify.All);
        Assert.Contains("verified " + name, verify.StdOut);
        Assert.True(Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--json"))).GetProperty("verified").GetBoolean());

        var restore = await FloyoDr.RunAsync(env, "restore", "--file", name, "--target-database", db.Name + "_copy");
        Assert.True(restore.ExitCode == 0, restore.All);
        var refused = await FloyoDr.RunAsync(env, "restore", "--file", name);
        Assert.Equal((int)ErrorKind.RefusedForSafety, refused.ExitCode);
        Assert.Contains("is not empty: pass --drop-existing", refused.StdErr);

        var cleanup = await FloyoDr.RunAsync(env, "cleanup", "--json");
        Assert.True(cleanup.ExitCode == 0, cleanup.All);
        Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--json")));

        // Azurite is plainly not WORM; legal hold needs a service that implements it.
        var check = await FloyoDr.RunAsync(env, "check-immutability");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("immutability is NOT enforced", check.StdOut);
        Assert.Contains("HTTP 501 APINotImplemented", check.StdOut);
        var hold = await FloyoDr.RunAsync(env, "hold", "--file", name);
        Assert.Equal(1, hold.ExitCode);
        Assert.StartsWith("error: the storage service at", hold.StdErr);
        Assert.Contains("does not support legal hold", hold.StdErr);
    }

    [Fact]
    public async Task With_immutability_on_against_Azurite_the_backup_fails_before_dumping_and_nothing_is_listed()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
        await using var container = await new BlobTestContainer().CreateAsync();
        var env = Env(db, container);
        env["BACKUP_IMMUTABILITY_MODE"] = "unlocked";

        var backup = await FloyoDr.RunAsync(env, "backup", "--full");
        Assert.Equal(1, backup.ExitCode);
        Assert.Single(backup.StdErr.Trim().Split('\n'));
        Assert.Contains("does not support immutability policies (HTTP 501 APINotImplemented)", backup.StdErr);
        Assert.Contains("set BACKUP_IMMUTABILITY_MODE=off for local storage only", backup.StdErr);
        env["BACKUP_IMMUTABILITY_MODE"] = "off";
        Assert.Empty(Backups(await FloyoDr.RunAsync(env, "list", "--json")));

        env["BACKUP_IMMUTABILITY_MODE"] = "locked";
        env["BACKUP_BLOB_CONTAINER"] = container.Name + "-missing";
        var missing = await FloyoDr.RunAsync(env, "backup", "--full");
        Assert.Equal((int)ErrorKind.Configuration, missing.ExitCode);
        Assert.Contains($"the container {TestServers.BlobEndpoint}/{container.Name}-missing does not exist; with BACKUP_IMMUTABILITY_MODE=locked", missing.StdErr);
    }

    /// <summary>The second and the third copy share one code path and keep the same promises; each is tested alone.</summary>
    [Theory]
    [InlineData("secondary", "second")]
    [InlineData("tertiary", "third")]
    public async Task A_further_copy_is_made_verified_listed_and_serves_restore_and_verify_when_the_primary_is_gone(string which, string ordinal)
    {
        var prefix = "BACKUP_" + which.ToUpperInvariant();
        var other = which == "secondary" ? "tertiary" : "secondary";
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 20000) g;");
        await using var primary = new BlobTestContainer(prefix: "p");
        await using var secondary = new BlobTestContainer(prefix: which[..1]);
        using var secondDir = new TempDirectory();
        var env = Env(db, primary);
        env[$"{prefix}_STORE"] = "blob";
        env[$"{prefix}_BLOB_CONNECTION_STRING"] = secondary.ConnectionString;
        env[$"{prefix}_BLOB_CONTAINER"] = secondary.Name;

        var backup = await FloyoDr.RunAsync(env, "backup", "--full", "--json");
        Assert.True(backup.ExitCode == 0, backup.All);
        var copy = JsonDocument.Parse(backup.StdOut).RootElement.GetProperty(which);
        Assert.True(copy.GetProperty("verified").GetBoolean());
        var name = copy.GetProperty("backup").GetString()!;
        Assert.Equal(JsonDocument.Parse(backup.StdOut).RootElement.GetProperty("backup").GetProperty("sha256").GetString(), copy.GetProperty("sha256").GetString());
        Assert.False(JsonDocument.Parse(backup.StdOut).RootElement.TryGetProperty(other, out _), $"no {other} copy is configured");
        var listed = Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--json")));
        Assert.Equal("verified", listed.GetProperty("copies").GetProperty(which).GetString());
        Assert.Equal("not configured", listed.GetProperty("copies").GetProperty(other).GetString());

        // The copy is a store of its own: list it, verify and restore from it with the primary unreachable.
        var primaryGone = new Dictionary<string, string?>(env)
        {
            ["BACKUP_BLOB_CONNECTION_STRING"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
        };
        Assert.Equal(name, Assert.Single(Backups(await FloyoDr.RunAsync(primaryGone, "list", "--source", which, "--json"))).GetProperty("name").GetString());
        var verify = await FloyoDr.RunAsync(primaryGone, "verify", "--file", name, "--source", which);
        Assert.True(verify.ExitCode == 0, verify.All);
        var restore = await FloyoDr.RunAsync(primaryGone, "restore", "--file", name, "--source", which, "--target-database", db.Name + "_dc2");
        Assert.True(restore.ExitCode == 0, restore.All);
        var fromPrimary = await FloyoDr.RunAsync(primaryGone, "list");
        Assert.Equal((int)ErrorKind.Unavailable, fromPrimary.ExitCode);
        Assert.StartsWith("error: cannot reach blob storage at http://127.0.0.1:9/devstoreaccount1/", fromPrimary.StdErr);

        // The other place being down hides nothing that is in the first, and a failed copy says the backup is safe.
        var copyGone = new Dictionary<string, string?>(env) { [$"{prefix}_BLOB_CONNECTION_STRING"] = primaryGone["BACKUP_BLOB_CONNECTION_STRING"] };
        Assert.Equal("unreachable", Assert.Single(Backups(await FloyoDr.RunAsync(copyGone, "list", "--json"))).GetProperty("copies").GetProperty(which).GetString());
        var copyFails = await FloyoDr.RunAsync(copyGone, "backup", "--full");
        Assert.Equal(1, copyFails.ExitCode);
        Assert.Contains($"is committed, but its {ordinal} copy failed: cannot reach blob storage at http://127.0.0.1:9/", copyFails.StdErr);
        Assert.Equal(2, Backups(await FloyoDr.RunAsync(env, "list", "--json")).Length);

        // A copy that disappears later is reported missing, not remembered as verified.
        await secondary.Client.DeleteBlobAsync(name);
        Assert.Equal("incomplete", Backups(await FloyoDr.RunAsync(env, "list", "--json")).Single(b => b.GetProperty("name").GetString() == name).GetProperty("copies").GetProperty(which).GetString());

        // A filesystem path works as the other place too.
        env[$"{prefix}_STORE"] = "filesystem";
        env[$"{prefix}_DIR"] = secondDir.Path;
        var second = await FloyoDr.RunAsync(env, "backup", "--full");
        Assert.True(second.ExitCode == 0, second.All);
        Assert.Contains($"{ordinal} copy verified in " + secondDir.Path, second.StdOut);
        var notConfigured = new Dictionary<string, string?>(env) { [$"{prefix}_STORE"] = "none" };
        var refused = await FloyoDr.RunAsync(notConfigured, "restore", "--file", name, "--source", which);
        Assert.Equal((int)ErrorKind.Configuration, refused.ExitCode);
        Assert.Contains($"no {ordinal} copy is configured: set {prefix}_STORE", refused.StdErr);
    }

    [Fact]
    public async Task With_both_copies_configured_each_is_made_and_proven_and_cleanup_applies_to_each()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE t AS SELECT g FROM generate_series(1, 5000) g");
        await using var primary = new BlobTestContainer(prefix: "p");
        using var secondDir = new TempDirectory();
        using var thirdDir = new TempDirectory();
        var env = Env(db, primary);
        env["BACKUP_SECONDARY_STORE"] = "filesystem";
        env["BACKUP_SECONDARY_DIR"] = secondDir.Path;
        env["BACKUP_TERTIARY_STORE"] = "filesystem";
        env["BACKUP_TERTIARY_DIR"] = thirdDir.Path;

        var backup = await FloyoDr.RunAsync(env, "backup", "--full");
        Assert.True(backup.ExitCode == 0, backup.All);
        Assert.Contains("second copy verified in " + secondDir.Path, backup.StdOut);
        Assert.Contains("third copy verified in " + thirdDir.Path, backup.StdOut);
        var listed = Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--json")));
        Assert.Equal("verified", listed.GetProperty("copies").GetProperty("secondary").GetString());
        Assert.Equal("verified", listed.GetProperty("copies").GetProperty("tertiary").GetString());
        var text = await FloyoDr.RunAsync(env, "list");
        Assert.Contains("TERTIARY", text.StdOut);

        // Listing the third copy shows it as itself and the second as seen from there.
        var fromThird = Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--source", "tertiary", "--json")));
        Assert.Equal("present", fromThird.GetProperty("copies").GetProperty("tertiary").GetString());
        Assert.Equal("present", fromThird.GetProperty("copies").GetProperty("secondary").GetString());

        // Retention runs on each copy as on the primary: the newest good backup is always kept.
        var cleanup = await FloyoDr.RunAsync(env, "cleanup", "--source", "tertiary", "--json");
        Assert.True(cleanup.ExitCode == 0, cleanup.All);
        Assert.Single(Backups(await FloyoDr.RunAsync(env, "list", "--source", "tertiary", "--json")));
        var bad = await FloyoDr.RunAsync(env, "list", "--source", "quaternary");
        Assert.Equal((int)ErrorKind.Usage, bad.ExitCode);
        Assert.Contains("--source must be 'primary', 'secondary' or 'tertiary'", bad.StdErr);
    }
}
