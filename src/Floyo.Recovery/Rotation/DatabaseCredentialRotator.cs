using System.Globalization;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Rotation;

/// <summary>
/// Zero-downtime rotation of the application's PostgreSQL login. Two login roles take turns; the one the
/// secret does not point at gets a new password, which is proven by logging in and only then published
/// as the secret's new version. After the grace period the previous version is disabled, the old role
/// is made NOLOGIN with a password nobody knows and its sessions are ended. So the store never points at a password that
/// does not work. Each public method is one step (a Durable activity later); each re-reads the store and
/// the server, refuses anything that would break the credential in use, and is safe to run twice.
/// </summary>
public sealed partial class DatabaseCredentialRotator(
    ISecretStore store,
    DatabaseConnections connections,
    IOptions<RotationOptions> options,
    IRotationCheckpoint checkpoint,
    TimeProvider clock,
    ILogger<DatabaseCredentialRotator> logger)
{
    private RotationOptions Settings => options.Value;

    /// <summary>
    /// Decides what this rotation must do, from what the store holds now. <paramref name="grace"/> overrides
    /// ROTATION_GRACE_SECONDS (a breach rotates with none: the old credential may be the attacker's).
    /// </summary>
    public async Task<RotationPlan> PlanAsync(string rotationId, TimeSpan? grace, CancellationToken ct)
    {
        var graceSeconds = (grace ?? Settings.Grace).TotalSeconds;
        var current = await store.GetCurrentAsync(Settings.Secret, ct);
        RotationPlan plan;
        if (current is null)
        {
            plan = new RotationPlan(rotationId, Settings.Secret, RotationKind.PostgresLogin, RotationPhase.Publish, null, null, Settings.BlueRole, graceSeconds);
        }
        else
        {
            var role = RoleOf(current);
            if (current.Properties.Tag(SecretTags.RotationState) == SecretTags.StatePublished)
            {
                // An earlier rotation published this version and stopped before retiring the previous one.
                var publishedAt = PublishedAt(current.Properties);
                plan = new RotationPlan(current.Properties.Tag(SecretTags.RotationId) ?? rotationId, Settings.Secret, RotationKind.PostgresLogin,
                    RotationPhase.Retire, null, Other(role), role, graceSeconds, current.Properties.Version, publishedAt, publishedAt + TimeSpan.FromSeconds(graceSeconds));
            }
            else
            {
                plan = new RotationPlan(rotationId, Settings.Secret, RotationKind.PostgresLogin, RotationPhase.Publish, current.Properties.Version, role, Other(role), graceSeconds);
            }
        }
        LogPlanned(logger, plan.Secret, plan.Phase, plan.TargetRole ?? "", plan.RotationId);
        await checkpoint.ReachedAsync(plan, RotationSteps.Plan, ct);
        return plan.With(RotationSteps.Plan);
    }

    /// <summary>
    /// Sets a new random password on the inactive role, proves a login with it, and publishes it. The
    /// password never leaves this method: a rerun after a crash inside it simply makes a new one.
    /// </summary>
    public async Task<RotationPlan> PublishAsync(RotationPlan plan, CancellationToken ct)
    {
        if (plan.Phase == RotationPhase.Retire || plan.Done(RotationSteps.Published))
        {
            return plan;
        }
        await using var admin = await StepLockAsync(ct);
        var target = plan.TargetRole!;
        var current = await store.GetCurrentAsync(Settings.Secret, ct);
        if (current is not null && current.Properties.Tag(SecretTags.RotationId) == plan.RotationId)
        {
            // Published by an earlier attempt of this same step, which stopped before returning.
            return Published(plan, current.Properties);
        }
        await EnsureTargetIsFreeAsync(plan, current, ct);

        var server = await connections.DatabaseAsync(ct);
        var database = Settings.Database ?? server.Database!;
        var password = RandomSecret.Create();
        if (!await LoginRoles.ExistsAsync(admin, target, ct))
        {
            throw new NotFoundException($"login role '{target}' does not exist: run 'floyo-dr credentials init' first");
        }
        await LoginRoles.PutInServiceAsync(admin, target, password, ct);
        await checkpoint.ReachedAsync(plan, RotationSteps.PasswordSet, ct);

        var proof = await LoginRoles.ProveAsync(server, database, target, password, ct);
        LogProven(logger, target, proof);
        await checkpoint.ReachedAsync(plan, RotationSteps.LoginProven, ct);

        var now = clock.GetUtcNow();
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SecretTags.Rotation] = SecretTags.PostgresLogin,
            [SecretTags.Role] = target,
            [SecretTags.RotatedAt] = now.ToString("O", CultureInfo.InvariantCulture),
            [SecretTags.RotationId] = plan.RotationId,
            [SecretTags.RotationState] = SecretTags.StatePublished,
        };
        var version = await store.SetAsync(Settings.Secret, new DatabaseCredential(target, password).ToJson(), tags, DatabaseCredential.ContentType, ct);
        LogPublished(logger, Settings.Secret, version.Version, target);
        var result = Published(plan, version);
        await checkpoint.ReachedAsync(result, RotationSteps.Published, ct);
        return result;
    }

    /// <summary>Disables every enabled version but the current one. Refuses to run before the grace period ends.</summary>
    public async Task<(RotationPlan Plan, IReadOnlyList<string> Disabled)> DisablePreviousAsync(RotationPlan plan, CancellationToken ct)
    {
        await using var exclusive = await StepLockAsync(ct);
        var current = await RequireCurrentAsync(plan, ct);
        RequireGraceOver(plan);
        var disabled = new List<string>();
        foreach (var version in await store.ListVersionsAsync(Settings.Secret, ct))
        {
            if (version.Enabled && version.Version != current.Properties.Version)
            {
                await store.DisableVersionAsync(Settings.Secret, version.Version, ct);
                disabled.Add(version.Version);
            }
        }
        LogDisabled(logger, Settings.Secret, disabled.Count);
        var result = await checkpoint.AdvanceAsync(plan, RotationSteps.PreviousDisabled, ct);
        return (result, disabled);
    }

    /// <summary>Makes the role the secret no longer points at NOLOGIN, with a random password nobody is told; publishing it again gives LOGIN back.</summary>
    public async Task<(RotationPlan Plan, string Role)> RetireOldRoleAsync(RotationPlan plan, CancellationToken ct)
    {
        await using var admin = await StepLockAsync(ct);
        var current = await RequireCurrentAsync(plan, ct);
        RequireGraceOver(plan);
        var old = Other(RoleOf(current));
        await RequireNoEnabledVersionForAsync(old, current, ct);
        if (await LoginRoles.ExistsAsync(admin, old, ct))
        {
            await LoginRoles.RetireAsync(admin, old, ct);
        }
        LogRetired(logger, old);
        var result = await checkpoint.AdvanceAsync(plan, RotationSteps.OldRoleRetired, ct);
        return (result, old);
    }

    public async Task<(RotationPlan Plan, int Ended)> EndOldSessionsAsync(RotationPlan plan, CancellationToken ct)
    {
        await using var admin = await StepLockAsync(ct);
        var current = await RequireCurrentAsync(plan, ct);
        RequireGraceOver(plan);
        var old = Other(RoleOf(current));
        var ended = await LoginRoles.EndSessionsAsync(admin, old, ct);
        LogSessionsEnded(logger, old, ended);
        var result = await checkpoint.AdvanceAsync(plan, RotationSteps.OldSessionsEnded, ct);
        return (result, ended);
    }

    /// <summary>Marks the current version complete, so the next run starts a fresh rotation rather than resuming this one.</summary>
    public async Task<RotationPlan> CompleteAsync(RotationPlan plan, CancellationToken ct)
    {
        await using var exclusive = await StepLockAsync(ct);
        var current = await RequireCurrentAsync(plan, ct);
        var tags = new Dictionary<string, string>(current.Properties.Tags, StringComparer.Ordinal) { [SecretTags.RotationState] = SecretTags.StateComplete };
        await store.UpdateTagsAsync(Settings.Secret, current.Properties.Version, tags, ct);
        var result = await checkpoint.AdvanceAsync(plan, RotationSteps.Completed, ct);
        return result;
    }

    /// <summary>
    /// An admin connection holding this application's rotation step lock (a session-level advisory lock on
    /// its group role, released when the connection closes, or the process dies). Every step that changes the
    /// store or a role takes it and re-reads both under it, so two rotations started by different triggers
    /// (the schedule, a Key Vault event, a breach, floyo-dr) never interleave: a second publisher waits, then
    /// finds the secret changed and is refused. floyo-dr's whole-run lock (<see cref="RotationRunner.LockServerAsync"/>) is another key.
    /// </summary>
    private async Task<NpgsqlConnection> StepLockAsync(CancellationToken ct)
    {
        var connection = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        try
        {
            await PgConnector.ExecuteAsync(connection, $"SET lock_timeout = '{(int)StepLockWait.TotalMilliseconds}ms'", ct);
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext('floyo-dr rotation step ' || $1))", connection)
            {
                Parameters = { new() { Value = Settings.GroupRole } },
            };
            await command.ExecuteNonQueryAsync(ct);
            await PgConnector.ExecuteAsync(connection, "SET lock_timeout = 0", ct);
            return connection;
        }
        catch (PostgresException e) when (e.SqlState == "55P03")
        {
            await connection.DisposeAsync();
            throw new UnavailableException($"another rotation of '{Settings.Secret}' held the rotation lock for more than {StepLockWait.TotalSeconds:F0} s; nothing was changed: run the rotation again when it has finished");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>One step takes seconds (set a password, prove it, write the store); a longer wait means something is stuck.</summary>
    private static readonly TimeSpan StepLockWait = TimeSpan.FromSeconds(60);

    public string Other(string role) =>
        role == Settings.BlueRole ? Settings.GreenRole
        : role == Settings.GreenRole ? Settings.BlueRole
        : throw new RecoveryException($"secret '{Settings.Secret}' holds a credential for role '{role}', which is neither {Settings.BlueRole} nor {Settings.GreenRole}: run 'floyo-dr credentials init' and rotate");

    private string RoleOf(SecretValue secret) =>
        DatabaseCredential.TryParse(secret.Value, out var credential)
            ? credential!.Username
            : throw new RecoveryException($"secret '{Settings.Secret}' version {secret.Properties.Version} is not a database credential ({{\"username\",\"password\"}} JSON)");

    private static DateTimeOffset PublishedAt(SecretVersion version) =>
        DateTimeOffset.TryParse(version.Tag(SecretTags.RotatedAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : version.CreatedOn;

    private RotationPlan Published(RotationPlan plan, SecretVersion version)
    {
        var at = PublishedAt(version);
        // With no previous credential there is nobody to give time to.
        var retireAfter = plan.PreviousVersion is null ? at : at + TimeSpan.FromSeconds(plan.GraceSeconds);
        return plan with { NewVersion = version.Version, PublishedAt = at, RetireAfter = retireAfter, CompletedSteps = [.. plan.CompletedSteps, RotationSteps.Published] };
    }

    /// <summary>
    /// The role about to get a new password must not be one any enabled version points at: clients holding
    /// that version would be locked out. This is the check that makes a stale or concurrent plan harmless.
    /// </summary>
    private async Task EnsureTargetIsFreeAsync(RotationPlan plan, SecretValue? current, CancellationToken ct)
    {
        var target = plan.TargetRole!;
        if (current is not null)
        {
            if (current.Properties.Version != plan.PreviousVersion)
            {
                throw new RecoveryException($"secret '{Settings.Secret}' changed since rotation {plan.RotationId} was planned; run the rotation again");
            }
            if (RoleOf(current) == target)
            {
                throw new RefusedException($"secret '{Settings.Secret}' points at role '{target}'; its password will not be changed");
            }
            await RequireNoEnabledVersionForAsync(target, current, ct);
        }
    }

    private async Task RequireNoEnabledVersionForAsync(string role, SecretValue current, CancellationToken ct)
    {
        foreach (var version in await store.ListVersionsAsync(Settings.Secret, ct))
        {
            if (!version.Enabled || version.Version == current.Properties.Version)
            {
                continue;
            }
            var versionRole = version.Tag(SecretTags.Role);
            if (versionRole is null && await store.GetVersionAsync(Settings.Secret, version.Version, ct) is { } value)
            {
                versionRole = DatabaseCredential.TryParse(value.Value, out var c) ? c!.Username : null;
            }
            if (versionRole == role)
            {
                throw new RefusedException(
                    $"version {version.Version} of secret '{Settings.Secret}' still points at role '{role}' and is enabled; finish the running rotation first (rerun 'floyo-dr rotate-credentials')");
            }
        }
    }

    private async Task<SecretValue> RequireCurrentAsync(RotationPlan plan, CancellationToken ct)
    {
        var current = await store.GetCurrentAsync(Settings.Secret, ct)
            ?? throw new NotFoundException($"secret '{Settings.Secret}' is missing from {store.Location}");
        if (current.Properties.Version != plan.NewVersion)
        {
            throw new RecoveryException($"secret '{Settings.Secret}' changed during rotation {plan.RotationId} (now version {current.Properties.Version}); nothing more was retired");
        }
        return current;
    }

    private void RequireGraceOver(RotationPlan plan)
    {
        if (plan.RetireAfter is { } after && clock.GetUtcNow() < after)
        {
            throw new RefusedException($"the grace period of rotation {plan.RotationId} runs until {after:O}; the previous credential stays valid until then");
        }
    }

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Rotation {RotationId} of {Secret}: {Phase}, role {Role}")]
    private static partial void LogPlanned(ILogger logger, string secret, RotationPhase phase, string role, string rotationId);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "New password for {Role} proven: {Proof}")]
    private static partial void LogProven(ILogger logger, string role, LoginProof proof);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Published {Secret} version {Version} for role {Role}")]
    private static partial void LogPublished(ILogger logger, string secret, string version, string role);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Disabled {Count} previous versions of {Secret}")]
    private static partial void LogDisabled(ILogger logger, string secret, int count);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Role {Role} retired: it may no longer log in and its password is now unknown")]
    private static partial void LogRetired(ILogger logger, string role);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Ended {Count} sessions of {Role}")]
    private static partial void LogSessionsEnded(ILogger logger, string role, int count);
}
