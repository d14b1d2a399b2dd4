using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>The database-corruption drill on the plan's own shape: one table whose only index is its primary key.</summary>
public sealed class CorruptionDrillOnAnyDatabaseTests
{
    [Fact]
    public async Task The_corruption_drill_damages_detects_and_repairs_a_database_whose_only_index_is_a_primary_key()
    {
        using var dir = new TempDirectory();
        await using var production = await TestDatabase.CreateAsync();
        var staging = $"staging_{Guid.NewGuid():N}"[..20];
        try
        {
            await production.ExecuteAsync("""
                CREATE TABLE users (id serial primary key, email text);
                INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 250) g;
                """);
            var env = CliEnvironment.For(production, dir.Path, ("STAGING_DATABASE_URL", TestServers.Url(TestServers.Alternate, staging)));
            var backup = await FloyoDr.RunAsync(env, "backup", "--full");
            Assert.True(backup.ExitCode == 0, backup.All);

            var run = await FloyoDr.RunAsync(env, "drill", "--scenario", "database-corruption", "--json");

            Assert.True(run.ExitCode == 0, run.All);
            var steps = JsonDocument.Parse(run.StdOut).RootElement.GetProperty("steps").EnumerateArray()
                .Select(s => (Name: s.GetProperty("name").GetString()!, Detail: s.GetProperty("detail").GetString()!)).ToList();
            Assert.Contains(steps, s => s.Name.StartsWith("damage: invalidate", StringComparison.Ordinal) && s.Detail == "invalidated index public.users_pkey");
            Assert.Contains(steps, s => s.Name == "integrity checks" && s.Detail.Contains("users_pkey", StringComparison.Ordinal) && s.Detail.Contains("is invalid", StringComparison.Ordinal));
            Assert.Contains(steps, s => s.Name.StartsWith("repair in place", StringComparison.Ordinal) && s.Detail.Contains("REINDEX public.users_pkey", StringComparison.Ordinal));
            Assert.Contains(steps, s => s.Name == "verify repair" && s.Detail == "clean");
            Assert.Contains(steps, s => s.Name.StartsWith("damage: truncate", StringComparison.Ordinal) && s.Detail == "truncated public.users; dropped index public.users_pkey");
            Assert.Contains(steps, s => s.Name == "integrity checks" && s.Detail.Contains("rows, expected 250", StringComparison.Ordinal));
            // No WAL archive in this store: today's recovery, the dump, and the report says why.
            Assert.Contains(steps, s => s.Name == "point-in-time recovery available" && s.Detail.StartsWith("no base backup in ", StringComparison.Ordinal) && s.Detail.EndsWith("the dump is restored instead", StringComparison.Ordinal));
            Assert.Contains(steps, s => s.Name == "not repairable: restore from backup");

            // The staging copy the drill ended with is whole again: every row, and its primary key.
            await using var copy = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, staging), default);
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND indisprimary AND indisvalid)", copy);
            Assert.Equal("250 1", await command.ExecuteScalarAsync());
        }
        finally
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {staging} WITH (FORCE)", default);
        }
    }
}
