using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary>
/// Before a command that runs a client tool starts anything: the tool is present and at least the server's
/// major, or the command fails at once with one line naming the tool, its version and the server's (exit 3).
/// </summary>
internal static class ToolPreflight
{
    /// <summary>Against the server of DATABASE_URL (backup, restore).</summary>
    public static async Task DatabaseServerAsync(IServiceProvider services, string tool, CancellationToken ct) =>
        await services.GetRequiredService<ClientToolCheck>().EnsureAsync([tool], await services.GetRequiredService<DatabaseConnections>().DatabaseAsync(ct), ct);

    /// <summary>Against the verification server (VERIFY_DATABASE_URL, else the database's).</summary>
    public static async Task VerificationServerAsync(IServiceProvider services, string tool, CancellationToken ct) =>
        await services.GetRequiredService<ClientToolCheck>().EnsureAsync([tool], await services.GetRequiredService<DatabaseConnections>().VerificationServerAsync(ct), ct);
}
