using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Incidents;

/// <summary>
/// The incidents' live state in the backup store. The store is write-once, so every change is a new version
/// (<c>incidents/&lt;id&gt;/communication/000001.json</c>, ...) written under the incident's lock, and the
/// newest one is the state: nothing is ever overwritten or deleted, and the versions are the audit trail.
/// </summary>
public sealed partial class IncidentBook(IBackupStore store, TimeProvider clock)
{
    public const string Prefix = "incidents/";

    public static string NewId(DateTimeOffset now) =>
        $"incident-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";

    /// <summary>A usage error unless <paramref name="id"/> can be an incident id (it becomes part of object names).</summary>
    public static string CheckId(string? id)
    {
        var trimmed = id?.Trim() ?? "";
        return IdPattern().IsMatch(trimmed)
            ? trimmed
            : throw new UsageException($"'{trimmed}' is not an incident id (letters, digits and '-', up to 80, e.g. as 'floyo-dr incident open' prints it)");
    }

    public static string VersionsPrefix(string id) => $"{Prefix}{id}/communication/";

    public static string PublicReportName(string id) => $"{Prefix}{id}/public-incident-report.md";

    public static string PostMortemName(string id) => $"{Prefix}{id}/post-mortem.md";

    /// <summary>Opens the incident; opening an id that exists already returns it unchanged (a retried step).</summary>
    public async Task<IncidentRecord> OpenAsync(IncidentOpening opening, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(opening);
        if (string.IsNullOrWhiteSpace(opening.Title))
        {
            throw new UsageException("an incident needs a title (--title)");
        }
        var now = clock.GetUtcNow();
        var id = CheckId(opening.Id ?? NewId(now));
        await using var held = await LockAsync(id, ct);
        if (await FindAsync(id, ct) is { } existing)
        {
            return existing.Record;
        }
        var record = new IncidentRecord(id, opening.Title.Trim(), opening.Severity, opening.Source, opening.OpenedBy, now, opening.Stage, opening.ProjectedRto,
            opening.Summary, [], [], [new IncidentEntry(now, "opened", $"by {opening.OpenedBy} ({opening.Source}): {opening.Title.Trim()}; stage {opening.Stage}{Projection(opening.ProjectedRto)}")],
            Occurrences: opening.Occurrence is { } occurrence ? [occurrence] : null);
        await WriteAsync(record, 1, ct);
        return record;
    }

    public async Task<IncidentRecord?> GetAsync(string id, CancellationToken ct) => (await FindAsync(CheckId(id), ct))?.Record;

    public async Task<IncidentRecord> RequireAsync(string id, CancellationToken ct) =>
        await GetAsync(id, ct) ?? throw new NotFoundException($"incident {id} does not exist in {store.Location}");

    /// <summary>Records a person's change (or the resolution); refused once the incident is resolved.</summary>
    public async Task<(IncidentRecord Record, IncidentChange Change)> ChangeAsync(string id, string by, string? stage, string? message, TimeSpan? projectedRto, bool resolves, CancellationToken ct)
    {
        var (record, change) = await ChangeCoreAsync(id, by, stage, message, projectedRto, resolves, null, ct);
        return (record, change!);
    }

    /// <summary>
    /// A workflow's change (a stage, a repeated failure) keyed by <paramref name="occurrence"/>: recorded once, so
    /// a retried step or a replayed orchestration adds nothing. Null when it was recorded already, or when the
    /// incident was resolved meanwhile (a person closed it: a workflow does not reopen it).
    /// </summary>
    public async Task<IncidentChange?> RecordAsync(string id, string by, string? stage, string? message, string occurrence, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(occurrence);
        try
        {
            return (await ChangeCoreAsync(id, by, stage, message, null, false, occurrence, ct)).Change;
        }
        catch (RefusedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Opens the incident of a workflow's failure, or records it on the open incident of the same cause. The id
    /// is the cause's (<see cref="CauseId"/>), numbered -2, -3... once an earlier incident of it was resolved, and
    /// the trigger's occurrence is kept, so a retried step or a replayed orchestration opens and records nothing twice.
    /// </summary>
    public async Task<(IncidentRecord Record, bool Opened, IncidentChange? Change)> RaiseAsync(IncidentTrigger trigger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        // A breach has its own id already (its evidence and post-mortem carry it): the incident shares it.
        var cause = trigger.Cause == IncidentCause.Breach ? CheckId(trigger.Key) : CauseId(trigger.Cause, trigger.Key);
        // One lock per cause: two failures of the same cause at once must not both open an incident.
        await using var held = await store.LockAsync($"incident-cause-{cause}", TimeSpan.FromSeconds(30), ct);
        var (newest, number) = await NewestOfCauseAsync(cause, ct);
        if (newest is { } existing)
        {
            if (existing.Saw(trigger.Occurrence))
            {
                return (existing, existing.Occurrences![0] == trigger.Occurrence, null);
            }
            if (existing.Status == IncidentStatus.Open)
            {
                var (record, change) = await ChangeCoreAsync(existing.Id, trigger.Source, null, $"failed again ({trigger.Occurrence}): {trigger.Detail}", null, false, trigger.Occurrence, ct);
                return (record, false, change);
            }
        }
        var id = number == 0 ? cause : $"{cause}-{(number + 1).ToString(CultureInfo.InvariantCulture)}";
        var opened = await OpenAsync(new IncidentOpening(trigger.Title, trigger.Severity, trigger.Source, trigger.Source, trigger.Stage, trigger.ProjectedRto, trigger.Detail, id, trigger.Occurrence), ct);
        return (opened, opened.Occurrences?.FirstOrDefault() == trigger.Occurrence, null);
    }

    /// <summary>The incident a workflow instance opened or recorded a failure on; null when none did.</summary>
    public async Task<IncidentRecord?> FindByOccurrenceAsync(string occurrence, CancellationToken ct) =>
        (await ListAsync(ct)).Where(r => r.Saw(occurrence)).OrderByDescending(r => r.OpenedAt).FirstOrDefault();

    /// <summary>
    /// The incident id of a cause: its kind, the key made safe for object names, and a hash of the key (two keys
    /// that read the same once made safe stay apart). The same key gives the same id on every host and run.
    /// </summary>
    public static string CauseId(IncidentCause cause, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var kind = cause switch
        {
            IncidentCause.RestoreFailed => "restore-failed",
            IncidentCause.Breach => "breach",
            IncidentCause.DrillFailed => "drill-failed",
            _ => throw new ArgumentOutOfRangeException(nameof(cause)),
        };
        var slug = NotSafe().Replace(key.ToLowerInvariant(), "-").Trim('-');
        slug = slug.Length > 40 ? slug[..40].TrimEnd('-') : slug;
        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..8];
        return slug.Length == 0 ? $"{kind}-{hash}" : $"{kind}-{slug}-{hash}";
    }

    private async Task<(IncidentRecord? Newest, int Number)> NewestOfCauseAsync(string cause, CancellationToken ct)
    {
        var number = 0;
        await foreach (var stored in store.ListAsync($"{Prefix}{cause}", ct))
        {
            var parts = stored.Name.Split('/');
            if (parts.Length != 4 || parts[2] != "communication")
            {
                continue;
            }
            var n = parts[1] == cause ? 1
                : parts[1].StartsWith(cause + "-", StringComparison.Ordinal) && int.TryParse(parts[1].AsSpan(cause.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k > 1 ? k
                : 0;
            number = Math.Max(number, n);
        }
        if (number == 0)
        {
            return (null, 0);
        }
        var id = number == 1 ? cause : $"{cause}-{number.ToString(CultureInfo.InvariantCulture)}";
        return ((await FindAsync(id, ct))?.Record, number);
    }

    private async Task<(IncidentRecord Record, IncidentChange? Change)> ChangeCoreAsync(string id, string by, string? stage, string? message, TimeSpan? projectedRto, bool resolves, string? occurrence, CancellationToken ct)
    {
        id = CheckId(id);
        if (!resolves && stage is null && message is null && projectedRto is null)
        {
            throw new UsageException("an update needs --stage, --message or --projected-rto");
        }
        await using var held = await LockAsync(id, ct);
        var (record, version) = await FindAsync(id, ct) ?? throw new NotFoundException($"incident {id} does not exist in {store.Location}");
        if (occurrence is not null && record.Saw(occurrence))
        {
            return (record, null);
        }
        if (record.Status == IncidentStatus.Resolved)
        {
            throw new RefusedException($"incident {id} was resolved at {record.ResolvedAt:yyyy-MM-dd HH:mm} UTC; open a new one");
        }
        var now = clock.GetUtcNow();
        var change = new IncidentChange(record.Changes.Count + 1, now, by, stage?.Trim(), message?.Trim(), projectedRto, resolves);
        var detail = string.Join("; ", new[]
        {
            stage is null ? null : $"stage {stage.Trim()}",
            projectedRto is { } p ? $"projected RTO {Format(p)}" : null,
            message?.Trim(),
        }.Where(s => !string.IsNullOrEmpty(s)));
        var updated = record with
        {
            Stage = change.Stage ?? (resolves ? "resolved" : record.Stage),
            ProjectedRto = projectedRto ?? record.ProjectedRto,
            Changes = [.. record.Changes, change],
            Timeline = [.. record.Timeline, new IncidentEntry(now, resolves ? "resolved" : "update", $"by {by}{(detail.Length == 0 ? "" : $": {detail}")}")],
            ResolvedAt = resolves ? now : null,
            Resolution = resolves ? message?.Trim() ?? "resolved" : null,
            Occurrences = occurrence is null ? record.Occurrences : [.. record.Occurrences ?? [], occurrence],
        };
        await WriteAsync(updated, version + 1, ct);
        return (updated, change);
    }

    /// <summary>Marks a step of the plan done, with what it did; a step already marked is left as it was.</summary>
    public async Task<IncidentRecord> MarkSentAsync(string id, string step, IncidentEntry entry, Func<IncidentRecord, IncidentRecord>? alter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var held = await LockAsync(id, ct);
        var (record, version) = await FindAsync(id, ct) ?? throw new NotFoundException($"incident {id} does not exist in {store.Location}");
        if (record.WasSent(step))
        {
            return record;
        }
        var updated = (alter?.Invoke(record) ?? record) with { Sent = [.. record.Sent, step], Timeline = [.. record.Timeline, entry] };
        await WriteAsync(updated, version + 1, ct);
        return updated;
    }

    /// <summary>Every incident, newest state each, for listing.</summary>
    public async Task<IReadOnlyList<IncidentRecord>> ListAsync(CancellationToken ct)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var stored in store.ListAsync(Prefix, ct))
        {
            var parts = stored.Name.Split('/');
            if (parts.Length == 4 && parts[2] == "communication")
            {
                ids.Add(parts[1]);
            }
        }
        var records = new List<IncidentRecord>();
        foreach (var id in ids)
        {
            if (await FindAsync(id, ct) is { } found)
            {
                records.Add(found.Record);
            }
        }
        return records;
    }

    /// <summary>2h, 90m, 1d, 45s, or a TimeSpan (02:00:00); positive, at most 30 days. Null stays null.</summary>
    public static TimeSpan? ParseDuration(string? value, string name)
    {
        if (value is null)
        {
            return null;
        }
        var text = value.Trim();
        TimeSpan? parsed = text.Length > 1 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            ? char.ToLowerInvariant(text[^1]) switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), 's' => TimeSpan.FromSeconds(n), _ => null }
            : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
        return parsed is { } d && d > TimeSpan.Zero && d <= TimeSpan.FromDays(30)
            ? d
            : throw new UsageException($"{name} must be a positive duration up to 30 days, e.g. 2h, 90m, 1d or 02:00:00, not '{value}'");
    }

    public static string Format(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours} h {span.Minutes:D2} min"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes} min" : $"{Math.Max(0, (int)span.TotalSeconds)} s";

    private static string Projection(TimeSpan? projected) => projected is { } p ? $"; projected RTO {Format(p)}" : "";

    private async Task<(IncidentRecord Record, int Version)?> FindAsync(string id, CancellationToken ct)
    {
        string? newest = null;
        await foreach (var stored in store.ListAsync(VersionsPrefix(id), ct))
        {
            if (newest is null || string.CompareOrdinal(stored.Name, newest) > 0)
            {
                newest = stored.Name;
            }
        }
        if (newest is null)
        {
            return null;
        }
        await using var stream = await store.OpenReadAsync(newest, ct);
        var record = await JsonSerializer.DeserializeAsync<IncidentRecord>(stream, Json.Options, ct)
            ?? throw new IntegrityException($"{newest} is empty");
        return (record, int.Parse(Path.GetFileNameWithoutExtension(newest), CultureInfo.InvariantCulture));
    }

    private Task WriteAsync(IncidentRecord record, int version, CancellationToken ct) =>
        store.WriteAllAsync(ObjectName.Check($"{VersionsPrefix(record.Id)}{version:D6}.json"), JsonSerializer.SerializeToUtf8Bytes(record, Json.Options), ObjectRetention.None, ct);

    private Task<IAsyncDisposable> LockAsync(string id, CancellationToken ct) => store.LockAsync($"incident-{id}", TimeSpan.FromSeconds(30), ct);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,79}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotSafe();
}
