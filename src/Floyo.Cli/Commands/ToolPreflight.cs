using Floyo.Recovery;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Floyo.Cli.Commands;

/// <summary>
/// Before restore and verify start anything: the client tool they run is present and at least the server's
/// major, or the command fails at once with one line naming the tool, its version and the server's (exit 3).
/// (backup checks pg_dump as its first step inside the workflow, so a scheduled run still raises its alert.)
/// A server or setting that cannot be read is left for the command itself to report.
/// </summary>
internal static class ToolPreflight
{
    /// <summary>Against the server of DATABASE_URL (restore).</summary>
    public static Task DatabaseServerAsync(IServiceProvider services, string tool, CancellationToken ct) =>
        EnsureAsync(services, tool, c => c.DatabaseAsync(ct), ct);

    /// <summary>Against the verification server (VERIFY_DATABASE_URL, else the database's).</summary>
    public static Task VerificationServerAsync(IServiceProvider services, string tool, CancellationToken ct) =>
        EnsureAsync(services, tool, c => c.VerificationServerAsync(ct), ct);

    private static async Task EnsureAsync(IServiceProvider services, string tool, Func<DatabaseConnections, Task<NpgsqlConnectionStringBuilder>> server, CancellationToken ct)
    {
        NpgsqlConnectionStringBuilder target;
        try
        {
            target = await server(services.GetRequiredService<DatabaseConnections>());
        }
        catch (RecoveryException)
        {
            return;
        }
        await services.GetRequiredService<ClientToolCheck>().EnsureAsync([tool], target, ct);
    }
}
