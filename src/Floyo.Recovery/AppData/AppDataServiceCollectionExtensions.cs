using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.AppData;

public static class AppDataServiceCollectionExtensions
{
    /// <summary>Uploaded-files snapshots and configuration exports.</summary>
    public static IServiceCollection AddApplicationData(this IServiceCollection services)
    {
        services.AddOptions<AppDataOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<AppDataOptions>, AppDataOptionsValidator>();
        services.AddSingleton<FilesSnapshotter>();
        services.AddSingleton<FilesRestorer>();
        services.AddSingleton<ConfigExporter>();
        services.AddSingleton<AppDataRetention>();
        return services;
    }
}

internal sealed class AppDataOptionsValidator : IValidateOptions<AppDataOptions>
{
    public ValidateOptionsResult Validate(string? name, AppDataOptions options)
    {
        var failures = new List<string>();
        if (options.FilesRetentionDays < 1)
        {
            failures.Add("FILES_RETENTION_DAYS must be at least 1");
        }
        if (options.ConfigRetentionDays < 1)
        {
            failures.Add("CONFIG_RETENTION_DAYS must be at least 1");
        }
        if (options.FilesParallelism is < 1 or > 32)
        {
            failures.Add("FILES_PARALLELISM must be between 1 and 32");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
