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
    /// <summary>What the activities need beyond the engine.</summary>
    public static IServiceCollection AddFloyoWorkflowServices(this IServiceCollection services)
    {
        services.AddOptions<WorkflowOptions>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkflowOptions>, WorkflowOptionsValidator>());
        services.TryAddSingleton(sp => new WorkflowRuntime(sp.GetService<IHostApplicationLifetime>()));
        services.TryAddSingleton<RpoCheck>();
        return services;
    }
}
