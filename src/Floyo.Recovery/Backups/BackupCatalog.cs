using Floyo.Recovery.Anomalies;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floyo.Recovery.Backups;

/// <summary>
/// What the store holds, as backups: a backup exists only when its data object and its metadata
/// (written last) are both committed and agree on size. Everything else is invisible.
/// </summary>
public sealed partial class BackupCatalog(IBackupStore store, ILogger<BackupCatalog>? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<BackupCatalog>.Instance;

    public IBackupStore Store => store;

    /// <summary>Every complete backup, newest first.</summary>
    public async Task<IReadOnlyList<BackupEntry>> ListAsync(CancellationToken ct) => (await ListWithFindingsAsync(ct)).Entries;

    /// <summary>
    /// Every complete backup, newest first, and the records found damaged or forged on the way. Such a record
    /// is reported (here and as a warning) and never trusted: a backup whose metadata is one is left out, a
    /// verification or acceptance that is one is as if it were not there.
    /// </summary>
    public async Task<CatalogListing> ListWithFindingsAsync(CancellationToken ct)
    {
        var objects = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        var verifications = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var acceptances = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync("", ct))
        {
            if (VerificationRecord.BackupOf(item.Name) is { } backup)
            {
                (verifications.TryGetValue(backup, out var list) ? list : verifications[backup] = []).Add(item.Name);
            }
            else if (Acceptance.BackupOf(item.Name) is { } accepted)
            {
                acceptances.Add(accepted);
            }
            else if (!item.Name.Contains('/', StringComparison.Ordinal))
            {
                objects[item.Name] = item;
            }
        }

        var entries = new List<BackupEntry>();
        var findings = new List<CatalogFinding>();
        foreach (var (name, meta) in objects.Where(o => o.Key.EndsWith(BackupName.MetadataSuffix, StringComparison.Ordinal)))
        {
            var dataName = name[..^BackupName.MetadataSuffix.Length];
            if (!BackupName.LooksLikeBackup(dataName) || !objects.TryGetValue(dataName, out var data))
            {
                continue;
            }
            var read = await StoredJson.ReadAsync<BackupMetadata>(store, name, ct);
            var untrusted = read.Problem ?? (read.Value is { } candidate ? MetadataProblem(candidate, dataName) : null);
            if (untrusted is not null)
            {
                // Unreadable or forged metadata means no backup we can prove: leave it out, and say so.
                findings.Add(Report(new CatalogFinding(name, dataName, untrusted)));
                continue;
            }
            if (read.Value is not { } metadata)
            {
                continue;
            }
            // Metadata written before anomaly detection existed has no list: nothing was flagged.
            metadata = metadata.Anomalies is null ? metadata with { Anomalies = [] } : metadata;
            var recordFindings = new List<CatalogFinding>();
            var last = await LatestVerificationAsync(dataName, verifications.GetValueOrDefault(dataName), recordFindings, ct);
            var problems = new List<string>();
            if (metadata.SizeBytes != data.Size)
            {
                problems.Add($"size is {data.Size} bytes but the metadata says {metadata.SizeBytes}");
            }
            if (last is { ChecksumMatched: false })
            {
                problems.Add("checksum mismatch found by the last verification");
            }
            var acceptance = acceptances.Contains(dataName) ? await ReadAcceptanceAsync(dataName, recordFindings, ct) : null;
            findings.AddRange(recordFindings);
            entries.Add(new BackupEntry(metadata, data, meta, last, problems, acceptance) { Findings = recordFindings });
        }
        return new CatalogListing(
            [.. entries.OrderByDescending(e => e.Metadata.Timestamp).ThenByDescending(e => e.Name, StringComparer.Ordinal)],
            findings);
    }

    /// <summary>A backup by the name <c>list</c> prints; refuses paths, unknown names and incomplete backups.</summary>
    public async Task<BackupEntry> FindAsync(string name, CancellationToken ct)
    {
        ObjectName.Check(name);
        if (name.Contains('/', StringComparison.Ordinal) || !BackupName.LooksLikeBackup(name))
        {
            throw new UsageException($"'{name}' is not a backup name: give a name as 'floyo-dr list' prints it");
        }
        var listing = await ListWithFindingsAsync(ct);
        if (listing.Entries.FirstOrDefault(e => e.Name == name) is { } entry)
        {
            return entry;
        }
        throw listing.Findings.FirstOrDefault(f => f.Backup == name) is { } finding
            ? new IntegrityException($"'{name}' is not trusted: {finding}")
            : new NotFoundException($"no complete backup named '{name}' in {store.Location} (see 'floyo-dr list')");
    }

    /// <summary>The newest good backup whose last verification passed, optionally of one database.</summary>
    public async Task<BackupEntry?> LatestVerifiedAsync(string? database, CancellationToken ct) =>
        (await ListAsync(ct)).FirstOrDefault(e => e.IsGood && e.Verified && (database is null || e.Metadata.Database == database));

    /// <summary>The newest good backup, verified or not: what <c>verify --latest</c> proves next.</summary>
    public async Task<BackupEntry?> LatestGoodAsync(string? database, CancellationToken ct) =>
        (await ListAsync(ct)).FirstOrDefault(e => e.IsGood && (database is null || e.Metadata.Database == database));

    /// <summary>Why metadata cannot be trusted for the data object beside it, or null.</summary>
    private static string? MetadataProblem(BackupMetadata m, string dataName)
    {
        if (m.Name != dataName)
        {
            return $"names the backup '{m.Name}', not '{dataName}' beside it";
        }
        if (!Enum.IsDefined(m.Type) || string.IsNullOrEmpty(m.Database) || m.Server is null || m.Compression is null
            || m.Sha256 is null || m.ServerVersion is null || m.PgDumpVersion is null || m.Facts is null)
        {
            return "lacks required fields (type, database, server, compression, sha256, versions, facts)";
        }
        return null;
    }

    /// <summary>
    /// The newest verification that is genuinely this backup's: records are tried newest name first, and one
    /// that does not parse, names another backup, or is named for another time than it records is skipped
    /// (a forged <c>99999999T…</c> record never wins by name order).
    /// </summary>
    private async Task<VerificationRecord?> LatestVerificationAsync(string backup, List<string>? names, List<CatalogFinding> findings, CancellationToken ct)
    {
        foreach (var name in (names ?? []).OrderByDescending(n => n, StringComparer.Ordinal))
        {
            var read = await StoredJson.ReadAsync<VerificationRecord>(store, name, ct);
            var problem = read.Problem ?? read.Value switch
            {
                null => null,
                { Backup: var named } when named != backup => $"names the backup '{named}', not '{backup}' whose folder it is in",
                { Server: null } or { Problems: null } => "lacks required fields (server, problems)",
                { Timestamp: var at } when VerificationRecord.NameFor(backup, at) != name => $"records a verification at {at:O} but is named for another time",
                _ => null,
            };
            if (problem is not null)
            {
                findings.Add(Report(new CatalogFinding(name, backup, problem)));
            }
            else if (read.Value is { } record)
            {
                return record;
            }
        }
        return null;
    }

    private async Task<Acceptance?> ReadAcceptanceAsync(string backup, List<CatalogFinding> findings, CancellationToken ct)
    {
        var name = Acceptance.NameFor(backup);
        var read = await StoredJson.ReadAsync<Acceptance>(store, name, ct);
        var problem = read.Problem ?? read.Value switch
        {
            null => null,
            { Backup: var named } when named != backup => $"names the backup '{named}', not '{backup}'",
            { AcceptedBy: null or "" } or { Reason: null } => "lacks required fields (acceptedBy, reason)",
            _ => null,
        };
        if (problem is null)
        {
            return read.Value;
        }
        findings.Add(Report(new CatalogFinding(name, backup, problem)));
        return null;
    }

    private CatalogFinding Report(CatalogFinding finding)
    {
        LogUntrusted(_logger, finding.Object, finding.Problem, store.Location);
        return finding;
    }

    [LoggerMessage(EventId = 6400, Level = LogLevel.Warning, Message = "Ignored {Object} in {Location}: it {Problem}; it is not trusted until replaced or removed")]
    private static partial void LogUntrusted(ILogger logger, string @object, string problem, string location);
}

/// <summary>A record the catalogue did not trust: the object, the backup it concerns, and why.</summary>
public sealed record CatalogFinding(string Object, string Backup, string Problem)
{
    public override string ToString() => $"{Object} {Problem}; ignored";
}

public sealed record CatalogListing(IReadOnlyList<BackupEntry> Entries, IReadOnlyList<CatalogFinding> Findings);

public sealed record BackupEntry(
    BackupMetadata Metadata, StoredObject Data, StoredObject MetadataObject, VerificationRecord? LastVerification, IReadOnlyList<string> Problems, Acceptance? Acceptance)
{
    public string Name => Metadata.Name;

    public bool IsValid => Problems.Count == 0;

    public bool Verified => LastVerification is { Passed: true };

    /// <summary>Flagged by anomaly detection and not yet accepted by a person.</summary>
    public bool IsSuspect => Metadata.Anomalies.Count > 0 && Acceptance is null;

    /// <summary>Intact and not suspect: eligible as "the latest good backup".</summary>
    public bool IsGood => IsValid && !IsSuspect;

    public bool LegalHold => Data.LegalHold || MetadataObject.LegalHold;

    /// <summary>Records about this backup that were damaged or forged, and so ignored.</summary>
    public IReadOnlyList<CatalogFinding> Findings { get; init; } = [];
}
