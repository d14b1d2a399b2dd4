using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floyo.Functions.Http;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Functions.Tests.Infra;

/// <summary>
/// Builds and lints infra/bicep with the real Bicep CLI (restored from NuGet by scripts/bicep.sh, then
/// offline), once for the class, and checks the compiled ARM template for what the app depends on.
/// </summary>
public sealed class BicepFixture
{
    public BicepFixture()
    {
        Build = Run("build", "infra/bicep/main.bicep", "--stdout");
        Lint = Run("lint", "infra/bicep/main.bicep");
        Params = Run("build-params", "infra/bicep/main.bicepparam", "--stdout");
        Template = Build.ExitCode == 0 ? JsonDocument.Parse(Build.StdOut).RootElement.Clone() : default;
    }

    public CliResult Build { get; }

    public CliResult Lint { get; }

    public CliResult Params { get; }

    public JsonElement Template { get; }

    /// <summary>The modules, each as its nested template with the deployment's own properties (parameters, condition, scope).</summary>
    public IReadOnlyDictionary<string, (JsonElement Deployment, JsonElement Template)> Modules =>
        Resources(Template).Where(r => Type(r) == "Microsoft.Resources/deployments")
            .ToDictionary(r => r.GetProperty("name").GetString()!, r => (r, r.GetProperty("properties").GetProperty("template")));

    /// <summary>A template's resources: an array, or with languageVersion 2.0 an object keyed by symbolic name.</summary>
    public static IEnumerable<JsonElement> Resources(JsonElement template) =>
        template.GetProperty("resources") is { ValueKind: JsonValueKind.Object } named ? named.EnumerateObject().Select(p => p.Value) : template.GetProperty("resources").EnumerateArray();

    public static string? Type(JsonElement resource) => resource.TryGetProperty("type", out var t) ? t.GetString() : null;

    private static CliResult Run(params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Fixtures.RepositoryRoot };
        info.ArgumentList.Add(Path.Combine(Fixtures.RepositoryRoot, "scripts", "bicep.sh"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // The first run restores the CLI from NuGet; later ones take a few seconds.
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/bicep.sh {string.Join(' ', args)} did not finish");
        }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

public sealed partial class BicepTemplateTests(BicepFixture bicep) : IClassFixture<BicepFixture>
{
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string BlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    /// <summary>Sample settings the deployment deliberately does not set, and why (main.bicep says the same).</summary>
    private static readonly Dictionary<string, string> LocalOnly = new(StringComparer.Ordinal)
    {
        ["AzureWebJobsStorage"] = "identity-based: AzureWebJobsStorage__accountName/__credential/__clientId",
        ["WEBSITE_AUTH_ENABLED"] = "set by App Service itself when authsettingsV2 turns authentication on",
        ["FUNCTIONS_WORKER_RUNTIME"] = "by hosting: function-app.bicep's hostingSettings set it for the container; Flex takes the runtime from functionAppConfig and refuses it",
        ["BACKUP_DIR"] = "filesystem store",
        ["BACKUP_SECONDARY_DIR"] = "filesystem store",
        ["BACKUP_TERTIARY_DIR"] = "filesystem store",
        ["FLOYO_SECRETS_FILE"] = "file secret store",
        ["BACKUP_BLOB_CONNECTION_STRING"] = "Azurite; Azure uses the managed identity",
        ["BACKUP_SECONDARY_BLOB_CONNECTION_STRING"] = "Azurite; Azure uses the managed identity",
        ["BACKUP_TERTIARY_BLOB_CONNECTION_STRING"] = "Azurite; Azure uses the managed identity",
        ["UPLOADS_BLOB_CONNECTION_STRING"] = "Azurite; Azure uses the managed identity",
        ["FLOYO_LOG_LEVEL"] = "floyo-dr only",
        ["FLOYO_DR_COMMAND"] = "floyo-dr only: restore --pitr on the database server",
        ["PITR_TIMEOUT_SECONDS"] = "floyo-dr only: restore --pitr on the database server",
        ["PITR_PREFETCH_SEGMENTS"] = "floyo-dr only: restore --pitr on the database server",
        ["BASE_BACKUP_COMPRESSION_LEVEL"] = "floyo-dr only: backup --base on the database server",
        ["BASE_BACKUP_COMPRESSION_SIDE"] = "floyo-dr only: backup --base on the database server",
        ["BASE_BACKUP_DATA_DIR"] = "floyo-dr only: a path on the database host, read by backup --base there",
        ["BASE_BACKUP_ZSTD_PARAMETERS"] = "floyo-dr only: backup --base on the database server",
        ["WAL_PUSH_BATCH_FILES"] = "floyo-dr only: wal push --batch, archive_command on the database server",
        ["WAL_PUSH_PARALLELISM"] = "floyo-dr only: wal push --batch, archive_command on the database server",
        ["WAL_PUSH_ZSTD_PARAMETERS"] = "floyo-dr only: wal push, archive_command on the database server",
    };

    [Fact]
    public void Main_bicep_builds_and_lints_with_no_diagnostics()
    {
        Assert.True(bicep.Build.ExitCode == 0, bicep.Build.All);
        Assert.True(bicep.Lint.ExitCode == 0, bicep.Lint.All);
        Assert.True(bicep.Params.ExitCode == 0, bicep.Params.All);
        Assert.DoesNotMatch(Diagnostic(), bicep.Build.StdErr);
        Assert.DoesNotMatch(Diagnostic(), bicep.Lint.All);
        Assert.DoesNotMatch(Diagnostic(), bicep.Params.StdErr);
        Assert.Equal("https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", bicep.Template.GetProperty("$schema").GetString());
    }

    [Fact]
    public void Both_backup_containers_are_version_level_immutable_with_versioning_and_soft_delete()
    {
        var modules = bicep.Modules;
        foreach (var name in new[] { "backup-storage", "backup-storage-secondary" })
        {
            var template = modules[name].Template;
            var resources = BicepFixture.Resources(template).ToList();
            var service = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.Storage/storageAccounts/blobServices");
            var properties = service.GetProperty("properties");
            Assert.True(properties.GetProperty("isVersioningEnabled").GetBoolean(), $"{name}: versioning");
            Assert.True(properties.GetProperty("deleteRetentionPolicy").GetProperty("enabled").GetBoolean(), $"{name}: blob soft delete");
            Assert.True(properties.GetProperty("containerDeleteRetentionPolicy").GetProperty("enabled").GetBoolean(), $"{name}: container soft delete");
            var container = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.Storage/storageAccounts/blobServices/containers");
            Assert.True(container.GetProperty("properties").GetProperty("immutableStorageWithVersioning").GetProperty("enabled").GetBoolean(), $"{name}: version-level immutability");
            Assert.Equal("None", container.GetProperty("properties").GetProperty("publicAccess").GetString());
            var account = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.Storage/storageAccounts");
            Assert.False(account.GetProperty("properties").GetProperty("allowSharedKeyAccess").GetBoolean(), $"{name}: shared keys off");
        }
        // The second copy lives in the other region.
        Assert.Equal("[parameters('secondaryLocation')]", modules["backup-storage-secondary"].Deployment.GetProperty("properties").GetProperty("parameters").GetProperty("location").GetProperty("value").GetString());
        Assert.Equal("[parameters('location')]", modules["backup-storage"].Deployment.GetProperty("properties").GetProperty("parameters").GetProperty("location").GetProperty("value").GetString());
    }

    [Fact]
    public void The_identity_gets_exactly_the_roles_the_app_needs_each_named_by_scope_principal_and_role()
    {
        var modules = bicep.Modules;
        var assignments = modules.SelectMany(m => RoleAssignments(m.Key, m.Value.Template)).ToList();
        Assert.NotEmpty(assignments);

        // Backups: the least-privilege writer role (modules/backup-writer-role.bicep) on the container, both copies; never Owner.
        foreach (var name in new[] { "backup-storage", "backup-storage-secondary" })
        {
            var writer = Assert.Single(assignments, a => a.Module == name && a.Name.Contains("parameters('writerRoleGuid')", StringComparison.Ordinal));
            Assert.Contains("blobServices/containers", writer.Scope, StringComparison.Ordinal);
            Assert.Equal("ServicePrincipal", writer.PrincipalType);
            Assert.Equal("[reference(resourceId('Microsoft.Resources/deployments', 'backup-writer-role'), '2025-04-01').outputs.guid.value]",
                modules[name].Deployment.GetProperty("properties").GetProperty("parameters").GetProperty("writerRoleGuid").GetProperty("value").GetString());
            Assert.DoesNotContain(assignments, a => a.Module == name && a.Roles.Contains(BlobDataOwner));
        }
        // Host storage: what an identity-based Durable task hub needs.
        var host = Assert.Single(assignments, a => a.Module == "host-storage");
        Assert.Equal(new[] { BlobDataOwner, QueueDataContributor, TableDataContributor }.Order(), host.Roles.Order());
        Assert.Contains("Microsoft.Storage/storageAccounts'", host.Scope, StringComparison.Ordinal);
        // Uploads: read only, on the container.
        Assert.Contains(assignments, a => a.Module == "uploads-access" && a.Roles.SequenceEqual([BlobDataReader]) && a.Scope.Contains("blobServices/containers", StringComparison.Ordinal));
        // Key Vault: Secrets Officer (rotation adds versions, changes tags and enabled flags); nothing broader.
        Assert.Contains(assignments, a => a.Module == "key-vault" && a.Roles.SequenceEqual([KeyVaultSecretsOfficer]) && a.Scope.Contains("Microsoft.KeyVault/vaults", StringComparison.Ordinal) && a.PrincipalType == "ServicePrincipal");
        // Application Insights ingestion with Entra ID; the registry's pull.
        Assert.Contains(assignments, a => a.Module == "telemetry-access" && a.Roles.SequenceEqual([MonitoringMetricsPublisher]) && a.Scope.Contains("Microsoft.Insights/components", StringComparison.Ordinal));
        Assert.Contains(assignments, a => a.Module == "registry" && a.Roles.SequenceEqual([AcrPull]) && a.Scope.Contains("Microsoft.ContainerRegistry/registries", StringComparison.Ordinal));
        Assert.All(assignments, a => Assert.True(
            a.Roles.All(r => r is BlobDataOwner or BlobDataReader or QueueDataContributor or TableDataContributor or KeyVaultSecretsOfficer or MonitoringMetricsPublisher or AcrPull), $"{a.Module} assigns an unexpected role"));
        // guid(scope, principal, role): idempotent across redeployments, distinct per scope, principal and role.
        Assert.All(assignments, a => Assert.StartsWith($"[guid({Inner(a.Scope)}, parameters('", a.Name, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_setting_the_app_reads_in_Azure_is_set_and_local_only_ones_are_not()
    {
        var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "local.settings.sample.json"))).RootElement.GetProperty("Values");
        var app = bicep.Modules["function-app"];
        var given = app.Deployment.GetProperty("properties").GetProperty("parameters").GetProperty("appSettings").GetProperty("value").GetString()!;
        var settingsResource = Assert.Single(BicepFixture.Resources(app.Template), r => BicepFixture.Type(r) == "Microsoft.Web/sites/config"
            && r.GetProperty("name").GetString()!.Contains("appsettings", StringComparison.Ordinal));
        var hostSettings = settingsResource.GetProperty("properties").GetString()!;
        var schedules = bicep.Modules["schedules"].Template.GetRawText();

        // Names appear as 'NAME' inside ARM expressions, or as "NAME" in the schedules module's JSON array.
        static bool Sets(string text, string name) => text.Contains($"'{name}'", StringComparison.Ordinal) || text.Contains($"\"{name}\"", StringComparison.Ordinal);
        var missing = sample.EnumerateObject().Select(p => p.Name)
            .Where(name => !LocalOnly.ContainsKey(name) && !Sets(given, name) && !Sets(hostSettings, name) && !Sets(schedules, name))
            .ToList();
        Assert.True(missing.Count == 0, $"not deployed by infra/bicep: {string.Join(", ", missing)} (set them in main.bicep, or list them as local-only here with the reason)");
        Assert.DoesNotContain(LocalOnly.Keys, name => Sets(given, name) || Sets(hostSettings, name));
        Assert.All(LocalOnly.Keys, name => Assert.True(sample.TryGetProperty(name, out _), $"{name} is no longer a setting"));
        // In Azure: the Blob store with immutability, Key Vault for secrets, host storage through the identity.
        Assert.Contains("'BACKUP_STORE', 'blob'", given, StringComparison.Ordinal);
        Assert.Contains("'SECRET_STORE', 'keyvault'", given, StringComparison.Ordinal);
        Assert.Contains("'BACKUP_IMMUTABILITY_MODE', parameters('immutabilityMode')", given, StringComparison.Ordinal);
        Assert.Contains("'AzureWebJobsStorage__credential', 'managedidentity'", hostSettings, StringComparison.Ordinal);
        Assert.Contains("'AZURE_CLIENT_ID'", hostSettings, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_hosting_choices_allow_host_json_function_timeout_and_run_the_projects_runtime()
    {
        var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "host.json"))).RootElement;
        var timeout = TimeSpan.Parse(host.GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var app = bicep.Modules["function-app"].Template;
        var variables = app.GetProperty("variables");
        var resources = BicepFixture.Resources(app).ToList();
        var plan = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.Web/serverfarms");
        Assert.Equal("[variables('plans')[parameters('hosting')].sku]", plan.GetProperty("sku").GetString());
        Assert.Equal(["container", "flex"], app.GetProperty("parameters").GetProperty("hosting").GetProperty("allowedValues").EnumerateArray().Select(v => v.GetString()!).Order());
        var tiers = new Dictionary<string, string> { ["flex"] = "FlexConsumption", ["container"] = "ElasticPremium" };
        foreach (var (hosting, expected) in tiers)
        {
            var tier = variables.GetProperty("plans").GetProperty(hosting).GetProperty("sku").GetProperty("tier").GetString();
            Assert.Equal(expected, tier);
            // The classic Consumption plan (Dynamic) stops functions at 10 minutes; backups and restores need host.json's limit.
            Assert.True(timeout <= TimeSpan.FromMinutes(10) || tier is "FlexConsumption" or "ElasticPremium", $"functionTimeout {timeout} needs Flex, Premium or Dedicated, not {tier}");
        }
        var framework = typeof(BicepTemplateTests).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false)
            .Cast<System.Runtime.Versioning.TargetFrameworkAttribute>().Single().FrameworkName.Replace(".NETCoreApp,Version=v", "", StringComparison.Ordinal);
        // Flex (only): functionAppConfig with dotnet-isolated of the project's framework; the container has none.
        var site = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.Web/sites");
        var flexConfig = site.GetProperty("properties").GetProperty("functionAppConfig").GetString()!;
        Assert.StartsWith("[if(variables('isFlex'), createObject('deployment'", flexConfig, StringComparison.Ordinal);
        Assert.EndsWith($"'runtime', createObject('name', 'dotnet-isolated', 'version', '{framework}')), null())]", flexConfig, StringComparison.Ordinal);
        // Container: the image (the Functions base image of the same framework until azd pushes the app's), pulled with the identity.
        var container = variables.GetProperty("siteConfigs").GetProperty("container");
        Assert.Equal("[format('DOCKER|{0}', variables('image'))]", container.GetProperty("linuxFxVersion").GetString());
        Assert.Contains($"mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated{framework}", variables.GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.Equal("[not(empty(parameters('registryLoginServer')))]", container.GetProperty("acrUseManagedIdentityCreds").GetString());
        Assert.Contains("parameters('identityClientId')", container.GetProperty("acrUserManagedIdentityID").GetString(), StringComparison.Ordinal);
        var containerSettings = variables.GetProperty("hostingSettings").GetProperty("container");
        Assert.Equal("dotnet-isolated", containerSettings.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        Assert.Equal("~4", containerSettings.GetProperty("FUNCTIONS_EXTENSION_VERSION").GetString());
        Assert.Empty(variables.GetProperty("hostingSettings").GetProperty("flex").EnumerateObject());
        Assert.Equal("UserAssigned", site.GetProperty("identity").GetProperty("type").GetString());
        Assert.True(site.GetProperty("properties").GetProperty("httpsOnly").GetBoolean());
        // The default is the host that has the client tools; the registry exists only for it.
        var main = bicep.Template.GetProperty("parameters");
        Assert.Equal("container", main.GetProperty("hosting").GetProperty("defaultValue").GetString());
        Assert.Equal("[variables('isContainer')]", bicep.Modules["registry"].Deployment.GetProperty("condition").GetString());
        Assert.False(Assert.Single(BicepFixture.Resources(bicep.Modules["registry"].Template), r => BicepFixture.Type(r) == "Microsoft.ContainerRegistry/registries")
            .GetProperty("properties").GetProperty("adminUserEnabled").GetBoolean());
    }

    [Fact]
    public void Key_vault_is_rbac_only_and_its_near_expiry_events_go_to_the_webhook_once_enabled()
    {
        var vault = bicep.Modules["key-vault"].Template;
        var vaultResources = BicepFixture.Resources(vault).ToList();
        var properties = Assert.Single(vaultResources, r => BicepFixture.Type(r) == "Microsoft.KeyVault/vaults").GetProperty("properties");
        Assert.True(properties.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.True(properties.GetProperty("enablePurgeProtection").GetBoolean());
        // Only floyo-dr's own password, and only when one is passed: a redeployment never overwrites a live secret.
        var secret = Assert.Single(vaultResources, r => BicepFixture.Type(r) == "Microsoft.KeyVault/vaults/secrets");
        Assert.Equal("[not(empty(parameters('databasePassword')))]", secret.GetProperty("condition").GetString());

        var (deployment, events) = bicep.Modules["keyvault-events"];
        Assert.Equal("[parameters('enableKeyVaultEvents')]", deployment.GetProperty("condition").GetString());
        Assert.Equal(KeyVaultEventsFunction.Route, events.GetProperty("parameters").GetProperty("route").GetProperty("defaultValue").GetString());
        var resources = BicepFixture.Resources(events).ToList();
        Assert.Equal("Microsoft.KeyVault.vaults", Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.EventGrid/systemTopics").GetProperty("properties").GetProperty("topicType").GetString());
        var subscription = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.EventGrid/systemTopics/eventSubscriptions").GetProperty("properties");
        Assert.Equal([EventGridEvents.SecretNearExpiry, EventGridEvents.SecretExpired], subscription.GetProperty("filter").GetProperty("includedEventTypes").EnumerateArray().Select(e => e.GetString()!));
        var destination = subscription.GetProperty("destination");
        Assert.Equal("WebHook", destination.GetProperty("endpointType").GetString());
        var url = destination.GetProperty("properties").GetProperty("endpointUrl").GetString()!;
        Assert.Contains("https://{0}/api/{1}?code={2}", url, StringComparison.Ordinal);
        // The webhook's own function key: a host key (default or master) would also open restore, breach and approve.
        Assert.Contains("listKeys(resourceId('Microsoft.Web/sites/functions', parameters('functionAppName'), parameters('functionName'))", url, StringComparison.Ordinal);
        Assert.Contains("[parameters('keyName')]", url, StringComparison.Ordinal);
        Assert.DoesNotContain("/host/", url, StringComparison.Ordinal);
        Assert.DoesNotContain("functionKeys", url, StringComparison.Ordinal);
        Assert.DoesNotContain("masterKey", url, StringComparison.Ordinal);
        Assert.Equal("KeyVaultEvents", events.GetProperty("parameters").GetProperty("functionName").GetProperty("defaultValue").GetString());
        Assert.Equal("KeyVaultEvents", typeof(KeyVaultEventsFunction).GetMethod(nameof(KeyVaultEventsFunction.RunAsync))!
            .GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Cast<Microsoft.Azure.Functions.Worker.FunctionAttribute>().Single().Name);
        var key = Assert.Single(resources, r => BicepFixture.Type(r) == "Microsoft.Web/sites/functions/keys");
        Assert.Equal("[format('{0}/{1}/{2}', parameters('functionAppName'), parameters('functionName'), parameters('keyName'))]", key.GetProperty("name").GetString());
        Assert.Equal("securestring", events.GetProperty("parameters").GetProperty("keyValue").GetProperty("type").GetString());
        Assert.Equal("EventGridSchema", subscription.GetProperty("eventDeliverySchema").GetString());
        // Nothing secret leaves the deployment.
        Assert.DoesNotContain("listKeys", bicep.Template.GetProperty("outputs").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void App_service_authentication_is_on_with_entra_id_and_only_the_webhook_and_health_are_reachable_without_it()
    {
        var (deployment, app) = bicep.Modules["function-app"];
        var auth = Assert.Single(BicepFixture.Resources(app).Where(r => BicepFixture.Type(r) == "Microsoft.Web/sites/config"),
            r => r.GetProperty("name").GetString()!.Contains("authsettingsV2", StringComparison.Ordinal)).GetProperty("properties");
        Assert.True(auth.GetProperty("platform").GetProperty("enabled").GetBoolean());
        var validation = auth.GetProperty("globalValidation");
        Assert.True(validation.GetProperty("requireAuthentication").GetBoolean());
        Assert.Equal("Return401", validation.GetProperty("unauthenticatedClientAction").GetString());
        var excluded = app.GetProperty("parameters").GetProperty("authExcludedPaths").GetProperty("defaultValue").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal([$"/api/{KeyVaultEventsFunction.Route}", "/api/health"], excluded);
        Assert.Equal("[parameters('authExcludedPaths')]", validation.GetProperty("excludedPaths").GetString());
        var entra = auth.GetProperty("identityProviders").GetProperty("azureActiveDirectory");
        Assert.True(entra.GetProperty("enabled").GetBoolean());
        Assert.Equal("[parameters('authClientId')]", entra.GetProperty("registration").GetProperty("clientId").GetString());
        Assert.Contains("parameters('authTenantId')", entra.GetProperty("registration").GetProperty("openIdIssuer").GetString(), StringComparison.Ordinal);
        var parameters = deployment.GetProperty("properties").GetProperty("parameters");
        Assert.Equal("[parameters('authClientId')]", parameters.GetProperty("authClientId").GetProperty("value").GetString());
        Assert.False(bicep.Template.GetProperty("parameters").GetProperty("authClientId").TryGetProperty("defaultValue", out _));

        // Identity only from the platform in Azure; approvals need the app role.
        var given = parameters.GetProperty("appSettings").GetProperty("value").GetString()!;
        Assert.Contains("'ALLOW_DECLARED_OPERATOR', 'false'", given, StringComparison.Ordinal);
        Assert.Contains("'APPROVER_ROLE', parameters('approverRole')", given, StringComparison.Ordinal);
        Assert.Equal(new CallerOptions().ApproverRole, bicep.Template.GetProperty("parameters").GetProperty("approverRole").GetProperty("defaultValue").GetString());
    }

    private sealed record Assignment(string Module, string Name, string Scope, IReadOnlyList<string> Roles, string? PrincipalType);

    /// <summary>Role assignments of one module, with the role ids resolved from its variables (the imported role table).</summary>
    private static IEnumerable<Assignment> RoleAssignments(string module, JsonElement template)
    {
        var variables = template.TryGetProperty("variables", out var v) ? v : default;
        string Resolve(string expression) => RoleReference().Replace(expression, m =>
            variables.ValueKind == JsonValueKind.Object && variables.TryGetProperty(m.Groups[1].Value, out var table) && table.TryGetProperty(m.Groups[2].Value, out var id) ? id.GetString()! : m.Value);

        foreach (var resource in BicepFixture.Resources(template).Where(r => BicepFixture.Type(r) == "Microsoft.Authorization/roleAssignments"))
        {
            var properties = resource.GetProperty("properties");
            var roleDefinition = Resolve(properties.GetProperty("roleDefinitionId").GetString()!);
            IReadOnlyList<string> roles;
            if (CopiedRole().Match(roleDefinition) is { Success: true } copied)
            {
                // A loop over a list variable: every role in it.
                roles = [.. variables.GetProperty(copied.Groups[1].Value).EnumerateArray().Select(e => Resolve(e.GetString()!).Trim('[', ']'))];
            }
            else
            {
                roles = [.. GuidPattern().Matches(roleDefinition).Select(m => m.Value)];
            }
            yield return new Assignment(module, resource.GetProperty("name").GetString()!, resource.GetProperty("scope").GetString()!, roles,
                properties.TryGetProperty("principalType", out var type) ? type.GetString() : null);
        }
    }

    /// <summary>An ARM expression without its brackets, as it appears inside another.</summary>
    private static string Inner(string expression) => expression.TrimStart('[').TrimEnd(']');

    [GeneratedRegex(@"variables\('(\w+)'\)\.(\w+)")]
    private static partial Regex RoleReference();

    [GeneratedRegex(@"variables\('(\w+)'\)\[copyIndex\(\)\]")]
    private static partial Regex CopiedRole();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();

    [GeneratedRegex(@"\b(Warning|Error) [A-Za-z0-9-]+:")]
    private static partial Regex Diagnostic();
}
