using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Tests.Support;

/// <summary>
/// The real servers scripts/test.sh starts: a primary PostgreSQL, an empty "alternate" one that plays a
/// brand-new server, and Azurite. A missing variable fails the test: the suite never passes by skipping.
/// </summary>
public static class TestServers
{
    public static NpgsqlConnectionStringBuilder Primary => Server("FLOYO_TEST_PG_URL");

    public static NpgsqlConnectionStringBuilder Alternate => Server("FLOYO_TEST_PG2_URL");

    public static string BlobConnectionString => Environment.GetEnvironmentVariable("FLOYO_TEST_BLOB_CONNECTION")
        ?? throw new InvalidOperationException("FLOYO_TEST_BLOB_CONNECTION is not set: run the suite with scripts/test.sh");

    /// <summary>Azurite's blob endpoint as the SDK reports it in messages (it follows the port the services use).</summary>
    public static string BlobEndpoint =>
        BlobConnectionString.Split(';').Select(p => p.Trim()).First(p => p.StartsWith("BlobEndpoint=", StringComparison.OrdinalIgnoreCase))["BlobEndpoint=".Length..].TrimEnd('/');

    private static NpgsqlConnectionStringBuilder Server(string variable) =>
        DatabaseUrl.Parse(Environment.GetEnvironmentVariable(variable)
            ?? throw new InvalidOperationException($"{variable} is not set: run the suite with scripts/test.sh"), variable);

    /// <summary>A URI for <paramref name="database"/> on <paramref name="server"/>, as users write DATABASE_URL.</summary>
    public static string Url(NpgsqlConnectionStringBuilder server, string database) =>
        $"postgresql://{Uri.EscapeDataString(server.Username!)}:{Uri.EscapeDataString(server.Password!)}@{server.Host}:{server.Port}/{Uri.EscapeDataString(database)}";
}
