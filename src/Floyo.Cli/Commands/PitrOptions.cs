using System.CommandLine;
using System.Globalization;
using Floyo.Recovery.Wal;
using Microsoft.Extensions.DependencyInjection;

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

    public static PitrOptions Create() => new();

    public void AddTo(Command command)
    {
        command.Options.Add(Pitr);
        command.Options.Add(_targetTime);
        command.Options.Add(_dataDir);
        command.Options.Add(_port);
        command.Options.Add(_start);
        command.Options.Add(_archive);
    }

    public Task<int> RunAsync(ParseResult result, Option<bool> json, CancellationToken ct)
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
        var request = new PitrRequest(target.ToUniversalTime(), dataDir, result.GetValue(_port), result.GetValue(_start), result.GetValue(_archive));
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
}
