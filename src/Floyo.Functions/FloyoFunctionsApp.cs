using Floyo.Functions.Timers;
using Azure.Monitor.OpenTelemetry.Exporter;
using Floyo.Recovery;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Workflows;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Floyo.Functions;

/// <summary>The app's composition, in one place, so tests build exactly the host that Azure runs.</summary>
public static class FloyoFunctionsApp
{
    public const string MetricsConnectionSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    public static FunctionsApplicationBuilder Configure(FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();
        // Worker logs and dependencies go to Application Insights (APPLICATIONINSIGHTS_CONNECTION_STRING, set by the platform);
        // without a connection string nothing is sent.
        builder.Services.AddApplicationInsightsTelemetryWorkerService().ConfigureFunctionsApplicationInsights();
        // In Azure Application Insights takes Entra tokens only (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
        builder.Services.Configure<Microsoft.ApplicationInsights.Extensibility.TelemetryConfiguration>(
            telemetry => Telemetry.TelemetryAuthentication.Apply(telemetry, builder.Configuration));
        // The provider keeps only warnings by default; the workflows' information events (started, approved, restored) matter on a bad day.
        builder.Services.Configure<LoggerFilterOptions>(options =>
        {
            var warningsOnly = options.Rules.FirstOrDefault(r => r.ProviderName == "Microsoft.Extensions.Logging.ApplicationInsights.ApplicationInsightsLoggerProvider");
            if (warningsOnly is not null)
            {
                options.Rules.Remove(warningsOnly);
            }
        });
        // The Floyo.DR meter (backup, restore, drill, recovery-point measurements) goes to the same Application Insights
        // through the Azure Monitor OpenTelemetry exporter: metrics only; the logs keep the SDK above.
        if (!string.IsNullOrWhiteSpace(builder.Configuration[MetricsConnectionSetting]))
        {
            var connectionString = builder.Configuration[MetricsConnectionSetting];
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(DrMetrics.MeterName)
                .AddAzureMonitorMetricExporter(o => o.ConnectionString = connectionString));
        }
        builder.Services.AddFloyoRecovery();
        builder.Services.TryAddSingleton<ScheduledStarter>();
        builder.Services.TryAddSingleton<Rotation.CredentialRotationStarter>();
        builder.Services.AddOptions<Http.CallerOptions>().BindConfiguration("");
        builder.Services.TryAddSingleton<Http.RequestPrincipal>();
        // Start-up truth about pg_dump/pg_restore/pg_basebackup: a warning per finding, long before 02:00.
        builder.Services.AddHostedService<Startup.ClientToolStartupCheck>();
        // Class-based orchestrators and activities: the Durable extension turns each into a function at start-up.
        builder.ConfigureDurableWorker().AddTasks(r => r.AddFloyoWorkflows());
        return builder;
    }
}
