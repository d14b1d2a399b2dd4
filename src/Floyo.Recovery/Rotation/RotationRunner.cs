using System.Globalization;
using System.Security.Cryptography;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Rotation;

/// <param name="Grace">Overrides ROTATION_GRACE_SECONDS for this run (a breach uses zero).</param>
public sealed record RotationRequest(bool DatabaseCredential = true, bool TaggedSecrets = true, TimeSpan? Grace = null);

public sealed record RotationReport(string RotationId, IReadOnlyList<RotationOutcome> Rotated, IReadOnlyList<string> Skipped);

/// <summary>
/// Runs the rotation steps one after another, for floyo-dr (the Durable orchestration calls the same steps
/// as activities and waits with a durable timer). Everything is published first and retired after one
/// shared grace period, so rotating several secrets takes one grace period, not one each.
/// </summary>
public sealed partial class RotationRunner(
    DatabaseCredentialRotator database,
    RandomSecretRotator random,
    ISecretStore store,
    DatabaseConnections connections,
    IOptions<RotationOptions> options,
    TimeProvider clock,
    ILogger<RotationRunner> logger)
{
    public static string NewRotationId(TimeProvider clock) =>
        $"rot-{clock.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";

    /// <param name="progress">Told when the run waits out the grace period, so a person knows why it is quiet.</param>
    public async Task<RotationReport> RunAsync(RotationRequest request, IProgress<string>? progress, CancellationToken ct)
    {
        var rotationId = NewRotationId(clock);
        await using var exclusive = request.DatabaseCredential ? await LockServerAsync(connections, options.Value.GroupRole, ct) : null;
        var plans = new List<RotationPlan>();
        var skipped = new List<string>();
        if (request.DatabaseCredential)
        {
            plans.Add(await database.PublishAsync(await database.PlanAsync(rotationId, request.Grace, ct), ct));
        }
        if (request.TaggedSecrets)
        {
            foreach (var secret in await store.ListTaggedForRotationAsync(ct))
            {
                if (secret.Name == options.Value.Secret)
                {
                    continue;
                }
                if (secret.Tag(SecretTags.Rotation) != SecretTags.Random)
                {
                    skipped.Add($"{secret.Name} ({SecretTags.Rotation}={secret.Tag(SecretTags.Rotation)} is not handled here)");
                    continue;
                }
                plans.Add(await random.PublishAsync(await random.PlanAsync(secret.Name, rotationId, request.Grace, ct), ct));
            }
        }

        var retireAfter = plans.Select(p => p.RetireAfter ?? DateTimeOffset.MinValue).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        var wait = retireAfter - clock.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            LogWaiting(logger, wait.TotalSeconds);
            progress?.Report($"published; the previous credentials stay valid for {wait.TotalSeconds:F0} s of grace before they are retired (safe to interrupt: rerun to finish)");
        }
        // Timers run on a monotonic clock that can drift from wall time; wait until the wall clock agrees.
        while (retireAfter - clock.GetUtcNow() is { Ticks: > 0 } remaining)
        {
            await Task.Delay(remaining + TimeSpan.FromMilliseconds(20), clock, ct);
        }

        var outcomes = new List<RotationOutcome>();
        foreach (var plan in plans)
        {
            outcomes.Add(plan.Kind == RotationKind.PostgresLogin ? await RetireDatabaseAsync(plan, ct) : await RetireRandomAsync(plan, ct));
        }
        return new RotationReport(rotationId, outcomes, skipped);
    }

    private async Task<RotationOutcome> RetireDatabaseAsync(RotationPlan plan, CancellationToken ct)
    {
        var (disabledPlan, disabled) = await database.DisablePreviousAsync(plan, ct);
        var (retired, role) = await database.RetireOldRoleAsync(disabledPlan, ct);
        var (ended, sessions) = await database.EndOldSessionsAsync(retired, ct);
        await database.CompleteAsync(ended, ct);
        return new RotationOutcome(plan.Secret, plan.Kind, plan.NewVersion!, plan.TargetRole, role, disabled, sessions, plan.PublishedAt!.Value, clock.GetUtcNow(), plan.Phase == RotationPhase.Retire);
    }

    private async Task<RotationOutcome> RetireRandomAsync(RotationPlan plan, CancellationToken ct)
    {
        var (disabledPlan, disabled) = await random.DisablePreviousAsync(plan, ct);
        await random.CompleteAsync(disabledPlan, ct);
        return new RotationOutcome(plan.Secret, plan.Kind, plan.NewVersion!, null, null, disabled, 0, plan.PublishedAt!.Value, clock.GetUtcNow(), plan.Phase == RotationPhase.Retire);
    }

    private const int LockAttempts = 30;
    private static readonly TimeSpan LockRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// One rotation at a time of one application's logins (its group role) on a server: a session-level
    /// advisory lock, held until the returned connection is disposed and released if this process dies.
    /// floyo-dr takes it around the rotation workflow too.
    /// </summary>
    public static async Task<NpgsqlConnection> LockServerAsync(DatabaseConnections connections, string groupRole, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connections);
        var connection = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('floyo-dr rotation ' || $1))", connection)
        {
            Parameters = { new() { Value = groupRole } },
        };
        // A run that has just ended or died still holds the lock until the server has reaped its session, which
        // takes a moment after the client closed: look again for a few seconds before calling it a concurrent run.
        for (var attempt = 0; attempt < LockAttempts; attempt++)
        {
            if ((bool)(await command.ExecuteScalarAsync(ct))!)
            {
                return connection;
            }
            await Task.Delay(LockRetryDelay, ct);
        }
        await connection.DisposeAsync();
        throw new UnavailableException("another credential rotation is running against this server; try again when it has finished");
    }

    [LoggerMessage(EventId = 6030, Level = LogLevel.Information, Message = "Published; waiting {Seconds:F0} s grace before retiring the previous credentials")]
    private static partial void LogWaiting(ILogger logger, double seconds);
}
