using Floyo.Functions.Timers;
using Floyo.Recovery;
using Floyo.Recovery.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Floyo.Functions;

/// <summary>The app's composition, in one place, so tests build exactly the host that Azure runs.</summary>
public static class FloyoFunctionsApp
{
    public static FunctionsApplicationBuilder Configure(FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddFloyoRecovery();
        builder.Services.TryAddSingleton<ScheduledStarter>();
        // Class-based orchestrators and activities: the Durable extension turns each into a function at start-up.
        builder.ConfigureDurableWorker().AddTasks(r => r.AddFloyoWorkflows());
        return builder;
    }
}
