using System.Net.Sockets;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Npgsql;

namespace Floyo.Recovery.Workflows;

/// <summary>A failure worth trying again later: the server is unreachable, restarting, or briefly refusing connections.</summary>
public sealed class TransientFailureException(string message, Exception? inner = null) : UnavailableException(message, inner);

/// <summary>
/// Decides which failures the workflows retry. Only conditions that pass by themselves qualify; a bad
/// checksum, a missing backup or a refused restore never improves with time and fails at once.
/// </summary>
public static class TransientFailures
{
    // 55000 on connect: "database is not currently accepting connections" (another restore is swapping it in).
    private static readonly HashSet<string> TransientStates = new(StringComparer.Ordinal) { "55000", "57P01", "57P02", "57P03", "53300", "53400" };

    public static bool IsTransient(Exception e) => e switch
    {
        TransientFailureException => true,
        ChecksumMismatchException or ObjectNotFoundException or ObjectProtectedException => false,
        PostgresException pg => TransientStates.Contains(pg.SqlState) || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or TimeoutException,
        SocketException or TimeoutException => true,
        RecoveryException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };
}
