using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>Start-up checks of <see cref="WalOptions"/>, shared by the engine's container and <see cref="WalArchiveFromSettings"/>.</summary>
internal sealed class WalOptionsValidator : IValidateOptions<WalOptions>
{
    public ValidateOptionsResult Validate(string? name, WalOptions options)
    {
        var failures = new List<string>();
        if (options.PrefetchSegments is < 0 or > 256)
        {
            failures.Add("PITR_PREFETCH_SEGMENTS must be between 0 and 256");
        }
        if (options.PushBatchFiles is < 1 or > 256)
        {
            failures.Add("WAL_PUSH_BATCH_FILES must be between 1 and 256");
        }
        if (options.PushParallelism is < 1 or > 32)
        {
            failures.Add("WAL_PUSH_PARALLELISM must be between 1 and 32");
        }
        if (options.CopyMaxLagMinutes < 1)
        {
            failures.Add("WAL_COPY_MAX_LAG_MINUTES must be at least 1");
        }
        if (options.CopyVerifySample is < 0 or > 10000)
        {
            failures.Add("WAL_COPY_VERIFY_SAMPLE must be between 0 (sizes only) and 10000");
        }
        if (options.BaseBackupCompressionLevel is < 1 or > 19)
        {
            failures.Add("BASE_BACKUP_COMPRESSION_LEVEL must be between 1 and 19");
        }
        try
        {
            options.BaseBackupZstd();
        }
        catch (FormatException e)
        {
            failures.Add($"BASE_BACKUP_ZSTD_PARAMETERS: {e.Message}");
        }
        try
        {
            options.PushZstd();
        }
        catch (FormatException e)
        {
            failures.Add($"WAL_PUSH_ZSTD_PARAMETERS: {e.Message}");
        }
        if (options.BaseBackupCompressionSide is not (WalOptions.ServerSide or WalOptions.ClientSide))
        {
            failures.Add("BASE_BACKUP_COMPRESSION_SIDE must be 'server' or 'client'");
        }
        if (options.DirectDataDirectory is { } dataDir && !Path.IsPathFullyQualified(dataDir))
        {
            failures.Add("BASE_BACKUP_DATA_DIR must be an absolute path (the database server's data directory on this machine) or unset");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
