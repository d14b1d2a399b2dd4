using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Verification;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>
/// Checks a database after a restore has put it in place: it accepts connections, every index is valid,
/// and its rows, objects and sequences match what the backup recorded. Read-only.
/// </summary>
public static class IntegrityChecker
{
    public static async Task<IReadOnlyList<string>> CheckAsync(NpgsqlConnectionStringBuilder server, string database, BackupMetadata meta, CancellationToken ct)
    {
        var problems = new List<string>();
        await using (var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct))
        await using (var command = new NpgsqlCommand("SELECT datallowconn FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } })
        {
            switch (await command.ExecuteScalarAsync(ct))
            {
                case null:
                    return [$"database '{database}' does not exist after the restore"];
                case false:
                    problems.Add($"database '{database}' does not allow connections");
                    return problems;
            }
        }
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, database), ct);
        const string invalidIndexes = """
            SELECT n.nspname || '.' || c.relname FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid ORDER BY 1
            """;
        await using (var command = new NpgsqlCommand(invalidIndexes, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                problems.Add($"index {reader.GetString(0)} is invalid");
            }
        }
        problems.AddRange(FactsComparison.Compare(meta.Facts, await DatabaseInspector.CaptureAsync(connection, ct)));
        return problems;
    }
}
