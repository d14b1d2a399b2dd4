using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Configuration;

/// <summary>Start-up checks, so a bad setting fails at once with one line naming it.</summary>
internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var failures = new List<string>();
        foreach (var (key, value) in new[] { ("DATABASE_URL", options.DatabaseUrl), ("VERIFY_DATABASE_URL", options.VerifyDatabaseUrl) })
        {
            if (!string.IsNullOrWhiteSpace(value) && !DatabaseUrl.TryParse(value, out _, out var why))
            {
                failures.Add($"{key} is malformed: {why}");
            }
        }
        if (options.RestoreJobs is < 1 or > 64)
        {
            failures.Add("RESTORE_JOBS must be between 1 and 64");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class BackupOptionsValidator : IValidateOptions<BackupOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupOptions options)
    {
        var failures = new List<string>();
        if (Storage.StoreKinds.Parse(options.Store) is null or Storage.StoreKind.None)
        {
            failures.Add($"BACKUP_STORE must be 'filesystem' or 'blob', not '{options.Store}'");
        }
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            failures.Add("BACKUP_DIR must not be empty");
        }
        if (options.RetentionDays < 1)
        {
            failures.Add("BACKUP_RETENTION_DAYS must be at least 1");
        }
        if (options.IncrementalRetentionDays < 1)
        {
            failures.Add("BACKUP_INCREMENTAL_RETENTION_DAYS must be at least 1");
        }
        if (options.CompressionLevel is < 1 or > 19)
        {
            failures.Add("BACKUP_COMPRESSION_LEVEL must be between 1 and 19");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class AnomalyOptionsValidator : IValidateOptions<AnomalyOptions>
{
    public ValidateOptionsResult Validate(string? name, AnomalyOptions options) =>
        options.RowDropRatio is <= 0 or >= 1 ? ValidateOptionsResult.Fail("ANOMALY_ROW_DROP_RATIO must be between 0 and 1")
        : options.SizeDropRatio is <= 0 or >= 1 ? ValidateOptionsResult.Fail("ANOMALY_SIZE_DROP_RATIO must be between 0 and 1")
        : options.MinRows < 0 ? ValidateOptionsResult.Fail("ANOMALY_MIN_ROWS must not be negative")
        : ValidateOptionsResult.Success;
}

internal sealed class DrillOptionsValidator : IValidateOptions<DrillOptions>
{
    public ValidateOptionsResult Validate(string? name, DrillOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.StagingDatabaseUrl) && !DatabaseUrl.TryParse(options.StagingDatabaseUrl, out _, out var why))
        {
            failures.Add($"STAGING_DATABASE_URL is malformed: {why}");
        }
        if (!string.IsNullOrWhiteSpace(options.AppLogin) && PgIdentifier.Problem(options.AppLogin) is { } problem)
        {
            failures.Add($"DRILL_APP_LOGIN is not a valid role name: {problem} ({PgIdentifier.Rule})");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
