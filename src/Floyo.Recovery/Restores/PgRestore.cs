using System.Globalization;
using Floyo.Recovery.Postgres;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>Runs pg_restore into an existing database; stops at the first error.</summary>
public sealed class PgRestore(PgTools tools)
{
    /// <param name="list">A -L list file: only these entries are restored.</param>
    public async Task RunAsync(NpgsqlConnectionStringBuilder server, string database, string archive, string? list, int jobs, CancellationToken ct)
    {
        var target = DatabaseUrl.WithDatabase(server, database);
        await using (var probe = await PgConnector.OpenAsync(target, ct))
        {
            await tools.EnsureCompatibleAsync("pg_restore", probe.PostgreSqlVersion.Major * 10000, ct);
        }
        // Never the name itself on the command line: libpq would read a name with '=' as a connection string.
        List<string> arguments = ["--exit-on-error", "--no-password", $"--jobs={jobs.ToString(CultureInfo.InvariantCulture)}", PgTools.DatabaseFromEnvironment];
        if (list is not null)
        {
            arguments.AddRange(["--use-list", list]);
        }
        arguments.Add(archive);
        var result = await tools.RunAsync("pg_restore", arguments, target, ct);
        if (result.ExitCode != 0)
        {
            throw new RecoveryException($"pg_restore into '{database}' failed (exit {result.ExitCode}): {StderrTail.Summary(result.StdErr)}");
        }
    }
}
