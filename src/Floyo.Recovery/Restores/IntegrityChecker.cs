using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Verification;
using Npgsql;

namespace Floyo.Recovery.Restores;

/// <summary>What the integrity checks found, split by what the plan says to do about it.</summary>
public sealed record IntegrityFindings(IReadOnlyList<string> Repairable, IReadOnlyList<string> NotRepairable)
{
    public bool Clean => Repairable.Count == 0 && NotRepairable.Count == 0;

    public IReadOnlyList<string> All => [.. NotRepairable, .. Repairable];
}

/// <summary>
/// Checks a database against its backup: it accepts connections, every index is valid (an invalid one is
/// repairable in place with REINDEX), and its rows, objects and sequences match what the backup recorded
/// (lost data is not repairable in place: it takes a restore). Read-only.
/// </summary>
public static class IntegrityChecker
{
    public static async Task<IntegrityFindings> CheckAsync(NpgsqlConnectionStringBuilder server, string database, BackupMetadata meta, CancellationToken ct)
    {
        var problems = new List<string>();
        var invalid = new List<string>();
        await using (var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct))
        await using (var command = new NpgsqlCommand("SELECT datallowconn FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } })
        {
            switch (await command.ExecuteScalarAsync(ct))
            {
                case null:
                    return new IntegrityFindings([], [$"database '{database}' does not exist"]);
                case false:
                    return new IntegrityFindings([], [$"database '{database}' does not allow connections"]);
            }
        }
        await using var connection = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(server, database), ct);
        const string invalidIndexes = """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid ORDER BY 1
            """;
        await using (var command = new NpgsqlCommand(invalidIndexes, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                invalid.Add($"index {reader.GetString(0)} is invalid");
            }
        }
        problems.AddRange(FactsComparison.Compare(meta.Facts, await DatabaseInspector.CaptureAsync(connection, ct)));
        return new IntegrityFindings(invalid, problems);
    }
}
