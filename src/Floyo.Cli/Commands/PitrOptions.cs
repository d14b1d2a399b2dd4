using System.CommandLine;
using System.Globalization;
using Floyo.Recovery;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Cli.Commands;

/// <summary><c>floyo-dr restore --pitr</c>: a base backup and the archived WAL, recovered to a moment into a new data directory.</summary>
internal sealed class PitrOptions
{
    public Option<bool> Pitr { get; } = new("--pitr") { Description = "Point-in-time recovery from a base backup and the WAL archive into a new data directory" };

    private readonly Option<string?> _targetTime = new("--target-time") { Description = "With --pitr: the moment to recover to (ISO-8601; UTC unless an offset is given)" };
    private readonly Option<string?> _dataDir = new("--data-dir") { Description = "With --pitr: an empty or new directory for the recovered cluster" };
    private readonly Option<int?> _port = new("--port") { Description = "With --pitr: the port the recovered server listens on" };
    private readonly Option<bool> _start = new("--start") { Description = "With --pitr: start the server, wait for recovery to reach the target and report the time recovered to" };
    private readonly Option<bool> _archive = new("--archive") { Description = "With --pitr: the recovered server is the new primary; keep archiving (its new timeline goes into the archive). Without it archive_mode is off on the copy" };
    private readonly Option<string?> _into = new("--into")
    {
        Description = "With --pitr and --target-database: copy that database, as recovered, into DATABASE_URL's server through the safe restore (staging, compare, rename), as <database> (default: the same name)",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<bool> _discard = new("--discard-data-dir") { Description = "With --into: remove the recovered cluster's data directory afterwards (by default it is kept, stopped)" };

    public static PitrOptions Create() => new();

    public void AddTo(Command command)
    {
        command.Options.Add(Pitr);
        command.Options.Add(_targetTime);
        command.Options.Add(_dataDir);
        command.Options.Add(_port);
        command.Options.Add(_start);
        command.Options.Add(_archive);
        command.Options.Add(_into);
        command.Options.Add(_discard);
    }

    /// <param name="database">restore's --target-database: with --pitr, the database to copy out of the recovered cluster.</param>
    /// <param name="drop">restore's --drop-existing: with --into, replace a non-empty target.</param>
    /// <param name="file">restore's --file, which --pitr does not take.</param>
    /// <param name="source">restore's --source: the copy whose base backups and WAL archive are recovered from (the primary may be gone).</param>
    public Task<int> RunAsync(ParseResult result, Option<bool> json, Option<string?> database, Option<bool> drop, Option<string> file, Option<string?> source, CancellationToken ct)
    {
        var when = result.GetValue(_targetTime);
        var dataDir = result.GetValue(_dataDir);
        if (string.IsNullOrWhiteSpace(when) || string.IsNullOrWhiteSpace(dataDir))
        {
            return Task.FromResult(CliHost.Fail("--pitr needs --target-time <ISO-8601> and --data-dir <empty directory>", 2));
        }
        if (!DateTimeOffset.TryParse(when, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var target))
        {
            return Task.FromResult(CliHost.Fail($"--target-time '{when}' is not an ISO-8601 time (e.g. 2026-11-30T21:55:00Z)", 2));
        }
        if (result.GetValue(_port) is { } port && port is < 1 or > 65535)
        {
            return Task.FromResult(CliHost.Fail("--port must be between 1 and 65535", 2));
        }
        Floyo.Recovery.Storage.BackupSource from;
        try
        {
            from = SourceOption.Parse(result, source);
        }
        catch (UsageException e)
        {
            return Task.FromResult(CliHost.Fail(e.Message, 2));
        }
        var request = new PitrRequest(target.ToUniversalTime(), dataDir, result.GetValue(_port), result.GetValue(_start), result.GetValue(_archive), Source: from);
        var into = result.GetResult(_into) is not null;
        if (Combination(result, into, database, drop, file) is { } wrong)
        {
            return Task.FromResult(CliHost.Fail(wrong, 2));
        }
        if (into)
        {
            var copy = new PitrIntoRequest(request with { Start = true }, result.GetValue(database)!, result.GetValue(_into), result.GetValue(drop), !result.GetValue(_discard));
            return IntoAsync(copy, result.GetValue(json), ct);
        }
        return CliHost.RunAsync(async (services, token) =>
        {
            var done = await services.GetRequiredService<PitrRestorer>().RunAsync(request, token);
            if (result.GetValue(json))
            {
                Output.Json(done);
                return 0;
            }
            Console.WriteLine($"restored base backup {done.BaseBackup} into {done.DataDirectory}{(done.ManifestVerified ? " (manifest verified)" : "")}, recovery target {PitrPlanner.Show(done.Target)}");
            if (done.Started)
            {
                Console.WriteLine($"recovered to {(done.RecoveredTo is { } at ? PitrPlanner.Show(at) : "the target (no transaction replayed)")}{(done.StoppedAt is null ? "" : $"; stopped {done.StoppedAt}")}; promoted in {done.DurationSeconds:F1} s");
            }
            else
            {
                Console.WriteLine($"start it with pg_ctl (as the server's user) to replay the archived WAL up to the target{(request.KeepArchiving ? "" : "; archive_mode is off on the copy (--archive keeps it on)")}");
            }
            return 0;
        }, ct);
    }

    /// <summary>The options --pitr does not combine; checked before anything is read or written.</summary>
    private string? Combination(ParseResult result, bool into, Option<string?> database, Option<bool> drop, Option<string> file)
    {
        var name = result.GetValue(database);
        var intoName = result.GetValue(_into);
        return (into, name) switch
        {
            _ when result.GetValue(file) is not null => "--pitr recovers from base backups and the WAL archive; it does not take --file",
            (true, null) => "--into needs --target-database <name>: the database to copy out of the recovered cluster",
            (false, not null) => "--target-database with --pitr names the database to copy out of the recovered cluster: add --into (DATABASE_URL's server receives it)",
            (false, _) when result.GetValue(drop) => "--drop-existing with --pitr only applies to --into",
            (false, _) when result.GetValue(_discard) => "--discard-data-dir only applies to --into",
            (true, _) when result.GetValue(_archive) => "--archive makes the recovered cluster the new primary; --into only copies one database out of a temporary one: use one or the other",
            (true, _) when intoName is { Length: 0 } || intoName?.StartsWith('-') == true => $"--into '{intoName}' is not a database name",
            _ => null,
        };
    }

    private static Task<int> IntoAsync(PitrIntoRequest request, bool json, CancellationToken ct) => CliHost.RunAsync(async (services, token) =>
    {
        // Names are checked before anything else: a bad one is a usage error, a system database a refusal.
        request.CheckNames();
        if (services.GetRequiredService<IOptions<WorkflowOptions>>().Value.ApprovalRequired)
        {
            // The second person's approval is recorded by the restore workflow, which restores stored dumps only; a
            // PITR copy is not allowed to be the way around it.
            throw new RefusedException("RESTORE_APPROVAL_REQUIRED is on and 'restore --pitr --into' does not take a second person's approval yet: recover without --into and dump/restore the copy through 'floyo-dr backup' and 'floyo-dr restore'; nothing was changed");
        }
        var done = await services.GetRequiredService<PitrIntoRunner>().RunAsync(request, token);
        if (json)
        {
            Output.Json(done);
            return 0;
        }
        var pitr = done.Pitr;
        var restore = done.Restore;
        Console.WriteLine($"recovered base backup {pitr.BaseBackup}{(pitr.ManifestVerified ? " (manifest verified)" : "")} to {(pitr.RecoveredTo is { } at ? PitrPlanner.Show(at) : $"the target {PitrPlanner.Show(pitr.Target)} (no transaction replayed)")}"
            + (done.TransactionsReplayed is { } n ? $"; {n} transactions replayed from the WAL archive" : ""));
        Console.WriteLine($"copied '{done.SourceDatabase}' into '{restore.TargetDatabase}' on {restore.Server} ({done.Facts.Tables.Sum(t => t.Rows)} rows in {done.Facts.Tables.Count} tables, counts proven on the staging copy) in {done.DurationSeconds:F1} s{(restore.ReplacedExisting ? " (replaced the existing database)" : "")}");
        if (restore.CreatedRoles.Count > 0)
        {
            Console.WriteLine($"created roles without passwords: {string.Join(", ", restore.CreatedRoles)}");
        }
        Console.WriteLine(done.DataDirectoryKept
            ? $"the recovered cluster is stopped and kept in {pitr.DataDirectory} (remove it when done)"
            : $"the recovered cluster is stopped and its data directory {pitr.DataDirectory} removed");
        return 0;
    }, ct);
}
