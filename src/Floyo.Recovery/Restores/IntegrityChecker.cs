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
    /// <param name="verifiedOid">
    /// When the rows were already proven on this very database before it was renamed into place (a
    /// restore's staging copy), its OID: the check then confirms the name holds that database and skips
    /// counting every row a second time. 0 counts rows.
    /// </param>
    public static async Task<IntegrityFindings> CheckAsync(NpgsqlConnectionStringBuilder server, string database, BackupMetadata meta, CancellationToken ct, uint verifiedOid = 0)
    {
        var problems = new List<string>();
        var invalid = new List<string>();
        await using (var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct))
        await using (var command = new NpgsqlCommand("SELECT oid, datallowconn FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = database } } })
        await using (var row = await command.ExecuteReaderAsync(ct))
        {
            if (!await row.ReadAsync(ct))
            {
                return new IntegrityFindings([], [$"database '{database}' does not exist"]);
            }
            if (verifiedOid != 0 && row.GetFieldValue<uint>(0) != verifiedOid)
            {
                return new IntegrityFindings([], [$"database '{database}' is not the restored copy that was checked (oid {row.GetFieldValue<uint>(0)}, expected {verifiedOid})"]);
            }
            if (!row.GetBoolean(1))
            {
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
        var countRows = verifiedOid == 0;
        problems.AddRange(FactsComparison.Compare(meta.Facts, await DatabaseInspector.CaptureAsync(connection, ct, countRows), countRows));
        return new IntegrityFindings(invalid, problems);
    }
}
