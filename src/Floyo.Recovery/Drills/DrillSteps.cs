using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Drills;

/// <summary>Damage a drill did on purpose, so the checks can be shown to find exactly it.</summary>
/// <param name="At">The staging server's clock just before the damage: what a point-in-time recovery recovers up to.</param>
public sealed record Damage(string? TruncatedTable, string? DroppedIndex, string? InvalidatedIndex, DateTimeOffset? At = null)
{
    public override string ToString() => string.Join("; ", new[]
    {
        TruncatedTable is null ? null : $"truncated {TruncatedTable}",
        DroppedIndex is null ? null : $"dropped index {DroppedIndex}",
        InvalidatedIndex is null ? null : $"invalidated index {InvalidatedIndex}",
    }.Where(s => s is not null));
}

/// <summary>The restore point a drill uses.</summary>
public sealed record DrillBackup(BackupSource Source, string Name, DateTimeOffset Timestamp, string Location);

/// <summary>How a restore onto staging differs from the backup, and the roles it had to create on the staging server.</summary>
public sealed record StagingRestore(IReadOnlyList<string> Problems, IReadOnlyList<string> CreatedRoles);

/// <summary>Input of the application-login proof: the backup, and the roles this drill created (whose passwords it may set).</summary>
public sealed record ApplicationLoginCheck(DrillBackup Backup, IReadOnlyList<string> CreatedRoles);

/// <summary>
/// The steps drills are made of, each small enough to be one Durable activity. Every step works on the
/// staging server only (<see cref="StagingServer"/>).
/// </summary>
public sealed class DrillSteps(BackupStores stores, DatabaseRestorer restorer, StagingServer staging, IOptions<DrillOptions> options, DrillRecovery recovery)
{
    /// <summary>Whether the primary store's WAL archive can take staging to a moment (a base backup, and a server this machine can run).</summary>
    public Task<PitrAvailability> PitrAvailabilityAsync(CancellationToken ct) => recovery.AvailabilityAsync(ct);

    /// <summary>Whether a further copy's own base backups and WAL archive can take staging to a moment; a copy the primary's base backups never reached is an error.</summary>
    public Task<PitrAvailability> PitrAvailabilityAsync(BackupSource copy, CancellationToken ct) => recovery.AvailabilityAsync(copy, ct);

    /// <summary>The plan's step 5 for damage that cannot be repaired in place: base backup + archived WAL, recovered to just before the damage, onto staging.</summary>
    public Task<StagingPitr> RecoverStagingToAsync(StagingPitrRequest request, CancellationToken ct) => recovery.RecoverAsync(request, staging.Server, ct);

    /// <summary>Names of the drill's temporary login roles start with this, so a left-over one is recognisable.</summary>
    public const string TemporaryLoginPrefix = "floyo_drill_login_";

    /// <summary>The newest good backup (verified, when asked) in the source's store.</summary>
    public async Task<DrillBackup> ChooseBackupAsync(BackupSource source, bool requireVerified, CancellationToken ct)
    {
        var store = Store(source);
        var catalog = new BackupCatalog(store);
        var entry = requireVerified ? await catalog.LatestVerifiedAsync(null, ct) : await catalog.LatestGoodAsync(null, ct);
        return entry is null
            ? throw new NotFoundException(requireVerified
                ? $"no verified, non-suspect backup in {store.Location}: run 'floyo-dr verify --latest' first"
                : $"no good backup in {store.Location}")
            : new DrillBackup(source, entry.Name, entry.Metadata.Timestamp, store.Location);
    }

    /// <summary>
    /// Replaces the staging database with the backup and returns how it differs from what the backup recorded.
    /// Roles missing on the staging server (which may be production's) are created, and named, so the drill
    /// can drop them at its end; roles that exist are never changed.
    /// </summary>
    public async Task<StagingRestore> RestoreToStagingAsync(DrillBackup backup, CancellationToken ct)
    {
        var server = staging.Server;
        var store = Store(backup.Source);
        var entry = await new BackupCatalog(store).FindAsync(backup.Name, ct);
        // Proven before the old staging copy is dropped: a damaged backup leaves staging as it was.
        await ChecksumChecker.ProveAsync(store, entry, ct);
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
        await RestorePreflight.CheckAsync(admin, store, entry, server.Database!, targetExists: false, ct);
        await DatabaseRestorer.DropDatabaseAsync(admin, server.Database!, ct);
        var created = ProvisionedRoles.None;
        try
        {
            created = await RoleProvisioner.EnsureAsync(admin, entry.Metadata.Facts.Roles, ct);
            var problems = await restorer.RestoreNewAsync(admin, server, server.Database!, new StoredBackup(store, entry, ChecksumProven: true), ct);
            return new StagingRestore(problems, created.Roles);
        }
        catch when (created.Roles.Count > 0)
        {
            // The drill never learns of roles from a step that failed: take them back here, after the half-made copy that depends on them.
            await DatabaseRestorer.DropDatabaseAsync(admin, server.Database!, CancellationToken.None);
            await RoleProvisioner.DropAsync(admin, created.Roles, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// The drill's last step when it had to create roles: the staging copy depends on them (owners, grants),
    /// so it is dropped first, then the roles. A staging server that already had every role keeps its copy.
    /// </summary>
    public async Task<string> ReleaseCreatedRolesAsync(IReadOnlyList<string> created, CancellationToken ct)
    {
        var server = staging.Server;
        await using var admin = await DatabaseRestorer.OpenMaintenanceAsync(server, ct);
        await DatabaseRestorer.DropDatabaseAsync(admin, server.Database!, ct);
        var released = await RoleProvisioner.DropAsync(admin, created, ct);
        return $"dropped the staging copy '{server.Database}', which depended on them, then dropped roles: {string.Join(", ", released.Dropped)}"
            + (released.Kept.Count > 0 ? $"; NOT dropped (something else depends on them): {string.Join("; ", released.Kept)}" : "");
    }

    /// <summary>
    /// Known, detectable damage to whatever the database has. Repairable: an index marked invalid (as a crash
    /// mid-build leaves it); one backing no constraint when there is one, else a constraint's own (a primary
    /// key's), which REINDEX repairs just the same. Not repairable in place: the largest table truncated and an
    /// index dropped (a constraint's goes with its constraint); with no index at all, the truncation alone.
    /// </summary>
    public async Task<Damage> DamageAsync(bool repairable, CancellationToken ct)
    {
        await using var connection = await PgConnector.OpenAsync(staging.Server, ct);
        var at = DateTimeOffset.Parse((await ScalarAsync(connection, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", ct))!,
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        var table = await ScalarAsync(connection, """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            ORDER BY c.reltuples DESC, c.relname LIMIT 1
            """, ct) ?? throw new RecoveryException("the staging copy has no table to damage");
        // Standalone indexes first: they can be dropped or invalidated without touching anything else.
        var found = await ScalarAsync(connection, """
            SELECT format('%I.%I', n.nspname, ic.relname) || coalesce(chr(31) || format('%I.%I', tn.nspname, t.relname) || chr(31) || quote_ident(k.conname), '')
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
            JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
            LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%' AND ic.relkind = 'i' AND i.indisvalid
            ORDER BY k.oid IS NOT NULL, ic.relname LIMIT 1
            """, ct);
        // Fields apart by U+001F: quoted names may hold spaces.
        var parts = found?.Split('\u001f') ?? [];
        var index = parts.Length > 0 ? parts[0] : null;
        if (repairable)
        {
            if (index is null)
            {
                throw new RecoveryException("the staging copy has no index to invalidate (not even a primary key): add one, or run the drill on a database that has one");
            }
            await PgConnector.ExecuteAsync(connection, $"UPDATE pg_index SET indisvalid = false WHERE indexrelid = {PgConnector.Literal(index)}::regclass", ct);
            return new Damage(null, null, index, at);
        }
        await PgConnector.ExecuteAsync(connection, $"TRUNCATE {table} CASCADE", ct);
        if (parts.Length == 3)
        {
            // A constraint's index cannot be dropped alone; dropping the constraint drops it (and what depends on it).
            await PgConnector.ExecuteAsync(connection, $"ALTER TABLE {parts[1]} DROP CONSTRAINT {parts[2]} CASCADE", ct);
        }
        else if (index is not null)
        {
            await PgConnector.ExecuteAsync(connection, $"DROP INDEX {index}", ct);
        }
        return new Damage(table, index, null, at);
    }

    /// <summary>The same checks a restore ends with, against the staging copy.</summary>
    public async Task<IntegrityFindings> CheckIntegrityAsync(DrillBackup backup, CancellationToken ct)
    {
        var entry = await new BackupCatalog(Store(backup.Source)).FindAsync(backup.Name, ct);
        return await IntegrityChecker.CheckAsync(staging.Server, staging.Database, entry.Metadata, ct);
    }

    /// <summary>The in-place repair the plan allows: rebuild invalid indexes, then VACUUM FULL what they belong to.</summary>
    public async Task<IReadOnlyList<string>> RepairAsync(CancellationToken ct)
    {
        await using var connection = await PgConnector.OpenAsync(staging.Server, ct);
        var invalid = await ListAsync(connection, """
            SELECT format('%I.%I', n.nspname, c.relname) || ' ' || format('%I.%I', tn.nspname, t.relname)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE NOT i.indisvalid
            """, ct);
        var done = new List<string>();
        foreach (var pair in invalid)
        {
            var (index, table) = (pair[..pair.IndexOf(' ', StringComparison.Ordinal)], pair[(pair.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
            await PgConnector.ExecuteAsync(connection, $"REINDEX INDEX {index}", ct);
            await PgConnector.ExecuteAsync(connection, $"VACUUM FULL {table}", ct);
            done.Add($"REINDEX {index}; VACUUM FULL {table}");
        }
        return done;
    }

    /// <summary>
    /// Shows the application's login can connect to the restored database and read from it, without ever
    /// touching its real password (roles are cluster-wide: staging may share production's server). A login
    /// this drill created gets a one-time password (restored roles carry none). An existing login is checked
    /// in the catalog (LOGIN, not expired, CONNECT) and proven through a temporary login role that is a member
    /// of it, so it holds exactly its privileges; that role is dropped at the end.
    /// </summary>
    public async Task<string> ProveApplicationLoginAsync(ApplicationLoginCheck check, CancellationToken ct)
    {
        var entry = await new BackupCatalog(Store(check.Backup.Source)).FindAsync(check.Backup.Name, ct);
        var role = options.Value.AppLogin is { Length: > 0 } configured
            ? configured
            : entry.Metadata.Facts.Roles.FirstOrDefault(r => r.CanLogin && !r.Superuser)?.Name;
        if (role is null)
        {
            return "no application login role in the backup: connection check skipped";
        }
        var server = staging.Server;
        await using var admin = await PgConnector.OpenAsync(server, ct);
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        if (check.CreatedRoles.Contains(role, StringComparer.Ordinal))
        {
            // Sent as a SCRAM verifier (as rotation does): the plain password never reaches the server or its log.
            await Rotation.LoginRoles.SetPasswordAsync(admin, role, password, ct);
            try
            {
                var read = await ConnectAndReadAsync(server, role, password, role, ct);
                return $"role '{role}' connected and read {read} (the role was created by this drill: proven with a one-time password)";
            }
            finally
            {
                await PgConnector.ExecuteAsync(admin, $"ALTER ROLE {PgConnector.Quote(role)} PASSWORD NULL", CancellationToken.None);
            }
        }

        await CheckCanLogInAsync(admin, role, server.Database!, ct);
        var temporary = TemporaryLoginPrefix + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        try
        {
            // Created with its password (a SCRAM verifier, as rotation sends it), so it is never a LOGIN role without one;
            // VALID UNTIL: should the drop below never run, the role stops working on its own.
            var until = await ScalarAsync(admin, "SELECT (now() + interval '1 hour')::text", ct);
            await PgConnector.ExecuteAsync(admin, $"""
                CREATE ROLE {PgConnector.Quote(temporary)} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
                  CONNECTION LIMIT 2 VALID UNTIL {PgConnector.Literal(until!)} IN ROLE {PgConnector.Quote(role)}
                  PASSWORD {PgConnector.Literal(ScramVerifier.Compute(password))}
                """, ct);
            var read = await ConnectAndReadAsync(server, temporary, password, role, ct);
            return $"role '{role}' may log in and connect to '{server.Database}'; proven through temporary role '{temporary}' (member of '{role}', dropped afterwards), "
                + $"which connected and read {read}; the role's own password was not touched";
        }
        finally
        {
            await RoleProvisioner.DropAsync(admin, [temporary], CancellationToken.None);
        }
    }

    /// <summary>What PostgreSQL checks at login for the role itself: LOGIN, an unexpired password, CONNECT on the database.</summary>
    private static async Task CheckCanLogInAsync(NpgsqlConnection admin, string role, string database, CancellationToken ct)
    {
        const string sql = """
            SELECT r.rolcanlogin, r.rolvaliduntil IS NULL OR r.rolvaliduntil > now(), has_database_privilege(r.oid, d.oid, 'CONNECT')
            FROM pg_roles r, pg_database d WHERE r.rolname = $1 AND d.datname = $2
            """;
        await using var command = new NpgsqlCommand(sql, admin) { Parameters = { new() { Value = role }, new() { Value = database } } };
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new RecoveryException($"the application login '{role}' does not exist on the staging server");
        }
        if (!reader.GetBoolean(0))
        {
            throw new RecoveryException($"the application login '{role}' cannot log in (NOLOGIN)");
        }
        if (!reader.GetBoolean(1))
        {
            throw new RecoveryException($"the application login '{role}' has expired (VALID UNTIL is in the past)");
        }
        if (!reader.GetBoolean(2))
        {
            throw new RecoveryException($"the application login '{role}' has no CONNECT privilege on '{database}'");
        }
    }

    /// <summary>Logs in as <paramref name="user"/> and counts the rows of the first table it may read; returns "N rows from T".</summary>
    private static async Task<string> ConnectAndReadAsync(NpgsqlConnectionStringBuilder server, string user, string password, string role, CancellationToken ct)
    {
        var login = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Username = user, Password = password };
        await using var app = await PgConnector.OpenAsync(login, ct);
        var readable = await ScalarAsync(app, """
            SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT')
            ORDER BY 1 LIMIT 1
            """, ct) ?? throw new RecoveryException($"role '{role}' can connect but may read no table");
        var rows = await ScalarAsync(app, $"SELECT count(*)::text FROM {readable}", ct);
        return $"{rows} rows from {readable}";
    }

    private IBackupStore Store(BackupSource source) => stores.For(source);

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        var result = new List<string>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(reader.GetString(0));
        }
        return result;
    }
}
