using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Breach;

public sealed record EvidenceFile(string Name, long Bytes, string Sha256);

/// <summary>The manifest, written last: a bundle without one is incomplete (a capture that crashed).</summary>
public sealed record EvidenceManifest(string IncidentId, string CaptureId, DateTimeOffset CapturedAt, string Server, string Database, IReadOnlyList<EvidenceFile> Files, bool LegalHold = true);

/// <summary>
/// Preserves what the server looked like when the breach was handled: roles and their grants, the
/// sessions connected, the backup catalog and the workflow's own timeline. Written under
/// <c>evidence/&lt;incident&gt;/&lt;capture&gt;/</c>, every object then put under legal hold, the manifest (with
/// each file's SHA-256) last. Password hashes are never read, and password literals in session queries are
/// masked: the bundle must not itself leak credentials.
/// </summary>
public sealed partial class EvidenceCollector(
    BreachTargets targets,
    BackupCatalog catalog,
    TimeProvider clock,
    ILogger<EvidenceCollector> logger)
{
    private IBackupStore Store => catalog.Store;

    /// <param name="label">
    /// Names the capture (the workflow passes one per step, e.g. <c>detection</c>): a rerun of the same step
    /// returns the bundle already complete, and one interrupted half-way is left as it is and captured
    /// again beside it. Without a label every call captures anew, named by the time.
    /// </param>
    public async Task<EvidenceManifest> CollectAsync(Incident incident, IReadOnlyList<TimelineEntry> timeline, CancellationToken ct, string? label = null)
    {
        var target = await targets.ConnectionAsync(incident.Drill, ct);
        var database = target.Database!;
        var capturedAt = clock.GetUtcNow();
        var captureId = label ?? capturedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        for (var attempt = 2; ; attempt++)
        {
            var manifestName = $"{incident.EvidencePrefix}{captureId}/manifest.json";
            if (await StoredJson.ReadRequiredAsync<EvidenceManifest>(Store, manifestName, "the evidence already captured is kept; capture again under another label", ct) is { } captured)
            {
                return captured;
            }
            if (!await AnyAsync($"{incident.EvidencePrefix}{captureId}/", ct))
            {
                break;
            }
            captureId = $"{label ?? captureId}-{attempt}";
        }
        var prefix = $"{incident.EvidencePrefix}{captureId}/";

        object roles, sessions;
        await using (var admin = await PgConnector.OpenAsync(target, ct))
        {
            roles = new
            {
                roles = await QueryAsync(admin, """
                    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolcanlogin AS can_login, r.rolinherit AS inherit,
                           r.rolcreaterole AS create_role, r.rolcreatedb AS create_db, r.rolreplication AS replication,
                           r.rolbypassrls AS bypass_rls, r.rolconnlimit AS connection_limit, r.rolvaliduntil AS valid_until,
                           array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
                    FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\_%' ORDER BY r.rolname
                    """, ct),
                databaseAcl = await QueryAsync(admin, """
                    SELECT d.datname AS database, coalesce(g.rolname, 'PUBLIC') AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
                    FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a LEFT JOIN pg_roles g ON g.oid = a.grantee
                    WHERE NOT d.datistemplate ORDER BY 1, 2, 3
                    """, ct),
                schemaAcl = await QueryAsync(admin, """
                    SELECT n.nspname AS schema, coalesce(g.rolname, 'PUBLIC') AS grantee, a.privilege_type AS privilege
                    FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a LEFT JOIN pg_roles g ON g.oid = a.grantee
                    WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2, 3
                    """, ct),
                tableGrants = await QueryAsync(admin, """
                    SELECT grantee, table_schema AS schema, table_name AS table, privilege_type AS privilege
                    FROM information_schema.role_table_grants
                    WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3, 4
                    """, ct),
                defaultAcl = await QueryAsync(admin, """
                    SELECT pg_get_userbyid(d.defaclrole) AS owner, n.nspname AS schema, d.defaclobjtype::text AS object_type, d.defaclacl::text AS acl
                    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace ORDER BY 1, 2, 3
                    """, ct),
            };
            sessions = new
            {
                sessions = (await QueryAsync(admin, """
                    SELECT pid, datname AS database, usename AS user_name, application_name, client_addr::text AS client_address,
                           backend_start, xact_start, query_start, state, backend_type, wait_event_type, left(query, 2000) AS query
                    FROM pg_stat_activity WHERE $1::text IS NULL OR datname = $1 ORDER BY backend_start NULLS FIRST, pid
                    """, ct, incident.Drill ? database : null)).Select(MaskQuery).ToList(),
            };
        }
        var entries = await catalog.ListAsync(ct);
        var backups = new
        {
            store = Store.Location,
            backups = entries.Select(e => new
            {
                name = e.Name,
                timestamp = e.Metadata.Timestamp,
                database = e.Metadata.Database,
                sizeBytes = e.Metadata.SizeBytes,
                sha256 = e.Metadata.Sha256,
                valid = e.IsValid,
                problems = e.Problems,
                verified = e.Verified,
                verifiedAt = e.LastVerification?.Timestamp,
                legalHold = e.LegalHold,
            }),
        };

        var files = new List<EvidenceFile>();
        foreach (var (name, content) in new (string, object)[]
        {
            ("roles-and-grants.json", roles),
            ("sessions.json", sessions),
            ("backup-catalog.json", backups),
            ("timeline.json", new { incident, timeline }),
        })
        {
            files.Add(await WriteHeldAsync(prefix + name, JsonSerializer.SerializeToUtf8Bytes(content, Json.Options), !incident.Drill, ct));
        }
        var manifest = new EvidenceManifest(incident.Id, captureId, capturedAt, $"{target.Host}:{target.Port}", database, files, LegalHold: !incident.Drill);
        await WriteHeldAsync(prefix + "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifest, Json.Options), !incident.Drill, ct);
        LogCollected(logger, incident.Id, prefix, files.Count);
        return manifest;
    }

    /// <summary>Bundles already complete for this incident (each with its manifest), oldest first.</summary>
    public async Task<IReadOnlyList<string>> ListBundlesAsync(Incident incident, CancellationToken ct)
    {
        var manifests = new List<string>();
        await foreach (var item in Store.ListAsync(incident.EvidencePrefix, ct))
        {
            if (item.Name.EndsWith("/manifest.json", StringComparison.Ordinal))
            {
                manifests.Add(item.Name);
            }
        }
        return [.. manifests.Order(StringComparer.Ordinal)];
    }

    private async Task<bool> AnyAsync(string prefix, CancellationToken ct)
    {
        await foreach (var _ in Store.ListAsync(prefix, ct))
        {
            return true;
        }
        return false;
    }

    /// <summary>Writes one file, held unless this is a drill: drills leave nothing a person must release.</summary>
    private async Task<EvidenceFile> WriteHeldAsync(string name, byte[] content, bool hold, CancellationToken ct)
    {
        await Store.WriteAllAsync(name, content, ObjectRetention.None, ct);
        if (hold)
        {
            await Store.SetLegalHoldAsync(name, true, ct);
        }
        return new EvidenceFile(name, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)));
    }

    private static Dictionary<string, object?> MaskQuery(Dictionary<string, object?> row)
    {
        if (row.TryGetValue("query", out var query) && query is string text)
        {
            row["query"] = SecretMask.Apply(text);
        }
        return row;
    }

    private static async Task<List<Dictionary<string, object?>>> QueryAsync(NpgsqlConnection connection, string sql, CancellationToken ct, string? parameter = null)
    {
        var rows = new List<Dictionary<string, object?>>();
        await using var command = new NpgsqlCommand(sql, connection);
        if (sql.Contains("$1", StringComparison.Ordinal))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)parameter ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        }
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                {
                    DateTime t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
                    var v => v,
                };
            }
            rows.Add(row);
        }
        return rows;
    }

    [LoggerMessage(EventId = 6110, Level = LogLevel.Warning, Message = "Incident {IncidentId}: evidence ({Files} files) preserved under legal hold at {Prefix}")]
    private static partial void LogCollected(ILogger logger, string incidentId, string prefix, int files);
}

/// <summary>Masks credentials in text taken from the server (session queries): password literals and password= settings.</summary>
public static partial class SecretMask
{
    public static string Apply(string text) =>
        KeyValuePassword().Replace(PasswordLiteral().Replace(text, "$1'***'"), "$1***");

    [GeneratedRegex(@"(?i)(password\s+)(E?'(?:[^']|'')*'|\$\$.*?\$\$)", RegexOptions.Singleline)]
    private static partial Regex PasswordLiteral();

    [GeneratedRegex(@"(?i)((?:password|pwd|secret|token)\s*[=:]\s*)[^\s;'""&]+")]
    private static partial Regex KeyValuePassword();
}
