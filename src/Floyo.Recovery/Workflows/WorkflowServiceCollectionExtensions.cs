using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Workflows;

public static class WorkflowServiceCollectionExtensions
{
    /// <summary>
    /// What the activities need beyond the engine. Seams (<see cref="IBackupReplicator"/> and friends) are
    /// added only when absent, so a real implementation registered before or after replaces the default.
    /// </summary>
    public static IServiceCollection AddFloyoWorkflowServices(this IServiceCollection services)
    {
        services.AddOptions<WorkflowOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkflowOptions>, WorkflowOptionsValidator>());
        services.TryAddSingleton(sp => new WorkflowRuntime(sp.GetService<IHostApplicationLifetime>()));
        services.TryAddSingleton<ChecksumChecker>();
        services.TryAddSingleton<RpoCheck>();
        services.TryAddSingleton<IBackupReplicator, UnconfiguredBackupReplicator>();
        services.TryAddSingleton<IUploadedFilesSnapshotter, UnconfiguredFilesSnapshotter>();
        services.TryAddSingleton<IConfigurationExporter, UnconfiguredConfigurationExporter>();
        return services;
    }
}
