using Floyo.Recovery.Anomalies;
using Floyo.Recovery.AppData;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Drills;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Retention;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Wal;
using Floyo.Recovery.Workflows;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery;

public static class RecoveryServiceCollectionExtensions
{
    /// <summary>The engine, as both the Functions app and floyo-dr use it. Settings come from the root configuration (environment names).</summary>
    public static IServiceCollection AddFloyoRecovery(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<BackupOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<AnomalyOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<DrillOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<RecoveryTargetOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddSingleton<IValidateOptions<BackupOptions>, BackupOptionsValidator>();
        services.AddSingleton<IValidateOptions<AnomalyOptions>, AnomalyOptionsValidator>();
        services.AddSingleton<IValidateOptions<DrillOptions>, DrillOptionsValidator>();
        services.AddSingleton<IValidateOptions<RecoveryTargetOptions>, RecoveryTargetOptionsValidator>();
        services.AddSingleton(TimeProvider.System);

        services.AddBackupStores();
        services.AddSingleton<IBackupStore>(sp => sp.GetRequiredService<BackupStores>().Primary);
        services.AddSingleton<PgTools>();
        services.AddSingleton<ClientToolCheck>();
        services.AddSingleton<BackupCatalog>();
        services.AddSingleton<FullBackupRunner>();
        services.AddSingleton<BackupFetcher>();
        services.AddSingleton<DatabaseRestorer>();
        services.AddSingleton<StreamingRestorer>();
        services.AddSingleton<PgRestore>();
        services.AddSingleton<RestoreRunner>();
        services.AddSingleton<Access.ConnectGate>();
        services.AddSingleton<BackupVerifier>();
        services.AddSingleton<RetentionPlanner>();
        services.AddSingleton<AnomalyDetector>();
        services.AddSingleton<AcceptanceRecorder>();
        services.AddSingleton<StagingServer>();
        services.AddSingleton<DrillSteps>();
        services.AddSingleton<StandbyReadiness>();
        services.AddSingleton<DrillRecovery>();
        services.AddSingleton<DrillReports>();
        services.AddSingleton<Dashboard.DashboardBuilder>();
        services.AddFloyoWorkflowServices();
        services.AddApplicationData();
        services.AddFloyoSecrets();
        services.AddFloyoNotifications();
        Incidents.IncidentsServiceCollectionExtensions.AddFloyoIncidents(services);
        services.AddWalArchiving();
        services.AddFloyoChecks();
        return services;
    }
}
