namespace Floyo.Recovery.Tests.Support;

/// <summary>Small databases built for one test: quick to back up, with known contents.</summary>
public static class Sample
{
    /// <summary>A Floyo-like <c>users</c> table with <paramref name="rows"/> rows, a sequence and an index.</summary>
    public static async Task<TestDatabase> UsersAsync(int rows = 1000, string? name = null)
    {
        var database = await TestDatabase.CreateAsync(name);
        await database.ExecuteAsync($"""
            CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, profile jsonb, created_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO users (email, profile) SELECT 'user' || g || '@example.com', jsonb_build_object('n', g, 'bio', md5(g::text)) FROM generate_series(1, {rows}) g;
            """);
        return database;
    }
}
