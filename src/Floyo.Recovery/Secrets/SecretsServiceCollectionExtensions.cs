using Floyo.Recovery.Breach;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Rotation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>Secret store, credential-aware connections, rotation and breach building blocks.</summary>
    public static IServiceCollection AddFloyoSecrets(this IServiceCollection services)
    {
        services.AddOptions<SecretOptions>().BindConfiguration("").ValidateOnStart();
        services.AddOptions<RotationOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecretOptions>, SecretOptionsValidator>();
        services.AddSingleton<IValidateOptions<RotationOptions>, RotationOptionsValidator>();
        services.AddOptions<BreachOptions>().BindConfiguration("").ValidateOnStart();
        services.AddSingleton<IValidateOptions<BreachOptions>, BreachOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<ISecretStore>(sp => CreateStore(sp.GetRequiredService<IOptions<SecretOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DatabaseConnections>();
        services.TryAddSingleton<IRotationCheckpoint, NoCheckpoint>();
        services.AddSingleton<DatabaseCredentialRotator>();
        services.AddSingleton<RandomSecretRotator>();
        services.AddSingleton<RotationRunner>();
        services.AddSingleton<CredentialProvisioner>();

        services.AddSingleton<BreachTargets>();
        services.AddSingleton<CleanBackupSelector>();
        services.AddSingleton<BreachPreflight>();
        services.AddSingleton<DatabaseIsolator>();
        services.AddSingleton<EvidenceCollector>();
        services.AddSingleton<BackupHolds>();
        services.AddSingleton<PostMortemWriter>();
        return services;
    }

    private static ISecretStore CreateStore(SecretOptions options, TimeProvider clock) => options.ResolvedStore switch
    {
        "keyvault" => KeyVaultSecretStore.Create(new Uri(options.KeyVaultUri!)),
        "file" => new FileSecretStore(options.ResolvedSecretsFile, clock),
        _ => throw new ConfigurationException($"SECRET_STORE '{options.Store}' is not available"),
    };
}
