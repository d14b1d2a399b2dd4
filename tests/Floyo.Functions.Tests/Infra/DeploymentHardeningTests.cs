using System.Text.Json;
using Floyo.Functions.Timers;
using Floyo.Functions.Http;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Functions.Tests.Infra;

/// <summary>
/// The compiled ARM template (scripts/bicep.sh build) for what issue 14 hardens: the backup writer role, locks,
/// Entra-only Application Insights, private endpoints (vnetEnabled), the cold standby (standbyEnabled), the azd
/// tags. Conditions are asserted as the expressions ARM evaluates, for both values of each switch.
/// </summary>
public sealed class DeploymentHardeningTests(BicepFixture bicep) : IClassFixture<BicepFixture>
{
    /// <summary>Every template in the deployment, nested modules included, by module path.</summary>
    private IEnumerable<(string Path, JsonElement Template)> AllTemplates()
    {
        var pending = new Stack<(string, JsonElement)>([("main", bicep.Template)]);
        while (pending.Count > 0)
        {
            var (path, template) = pending.Pop();
            yield return (path, template);
            foreach (var module in BicepFixture.Resources(template).Where(r => BicepFixture.Type(r) == "Microsoft.Resources/deployments"))
            {
                pending.Push(($"{path}/{module.GetProperty("name").GetString()}", module.GetProperty("properties").GetProperty("template")));
            }
        }
    }

    /// <summary>A module parameter's value as ARM sees it: a literal or expression string, or (for a value that depends on a
    /// condition) the whole parameter as one expression.</summary>
    private static string Param(JsonElement deployment, string name)
    {
        var parameter = deployment.GetProperty("properties").GetProperty("parameters").GetProperty(name);
        return parameter.ValueKind == JsonValueKind.String ? parameter.GetString()!
            : parameter.GetProperty("value") is { ValueKind: JsonValueKind.String } value ? value.GetString()! : parameter.GetProperty("value").GetRawText();
    }

    [Fact]
    public void The_backup_writer_role_has_exactly_the_data_actions_the_blob_store_uses_and_none_that_erase_a_version()
    {
        var template = bicep.Modules["backup-writer-role"].Template;
        var role = Assert.Single(BicepFixture.Resources(template), r => BicepFixture.Type(r) == "Microsoft.Authorization/roleDefinitions");
        var permissions = Assert.Single(role.GetProperty("properties").GetProperty("permissions").EnumerateArray());
        var variables = template.GetProperty("variables");
        Assert.Equal("[variables('dataActions')]", permissions.GetProperty("dataActions").GetString());
        const string Blobs = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/";
        var dataActions = variables.GetProperty("dataActions").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Equal(new[] { "read", "write", "add/action", "delete", "tags/read", "tags/write", "immutableStorage/runAsSuperUser/action" }.Select(a => Blobs + a).Order(), dataActions.Order());
        var actions = variables.GetProperty("actions").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Equal(["Microsoft.Storage/storageAccounts/blobServices/containers/read", "Microsoft.Storage/storageAccounts/blobServices/containers/write"], actions.Order());
        // Nothing that erases a version, deletes the container, changes the service's versioning/soft delete, or mints keys.
        foreach (var forbidden in new[] { "deleteBlobVersion", "permanentDelete", "containers/delete", "blobServices/write", "move/action", "blobs/runAsSuperUser", "modifyPermissions", "manageOwnership", "setAcl", "listKeys", "generateUserDelegationKey", "*" })
        {
            Assert.DoesNotContain(dataActions.Concat(actions), a => a.Contains(forbidden, StringComparison.Ordinal));
        }
        Assert.Equal("[\"[resourceGroup().id]\"]", role.GetProperty("properties").GetProperty("assignableScopes").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal));
        // Both copies and the standby are writers through this role; Storage Blob Data Owner is nowhere near a backup.
        Assert.Contains("format('id-{0}-{1}-standby'", Param(bicep.Modules["backup-storage-secondary"].Deployment, "writerPrincipalIds"), StringComparison.Ordinal);
        Assert.DoesNotContain("-standby", Param(bicep.Modules["backup-storage"].Deployment, "writerPrincipalIds"), StringComparison.Ordinal);
        foreach (var module in new[] { "backup-storage", "backup-storage-secondary" })
        {
            Assert.All(BicepFixture.Resources(bicep.Modules[module].Template).Where(r => BicepFixture.Type(r) == "Microsoft.Authorization/roleAssignments"),
                a => Assert.Matches(@"parameters\('writerRoleGuid'\)|\.storageBlobDataReader\)", a.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!));
        }
    }

    [Fact]
    public void Both_backup_accounts_and_every_vault_carry_a_can_not_delete_lock()
    {
        var locked = AllTemplates().SelectMany(t => BicepFixture.Resources(t.Template).Where(r => BicepFixture.Type(r) == "Microsoft.Authorization/locks").Select(r => (t.Path, Lock: r))).ToList();
        Assert.Equal(["main/backup-storage", "main/backup-storage-secondary", "main/key-vault", "main/standby/standby-key-vault"], locked.Select(l => l.Path).Order());
        Assert.All(locked, l =>
        {
            Assert.Equal("CanNotDelete", l.Lock.GetProperty("properties").GetProperty("level").GetString());
            Assert.Equal("[parameters('lockEnabled')]", l.Lock.GetProperty("condition").GetString());
            Assert.Contains(l.Path.Contains("vault", StringComparison.Ordinal) ? "Microsoft.KeyVault/vaults" : "Microsoft.Storage/storageAccounts", l.Lock.GetProperty("scope").GetString(), StringComparison.Ordinal);
        });
        Assert.True(bicep.Template.GetProperty("parameters").GetProperty("locksEnabled").GetProperty("defaultValue").GetBoolean());
        foreach (var module in new[] { "backup-storage", "backup-storage-secondary", "key-vault", "standby" })
        {
            Assert.Equal("[parameters('locksEnabled')]", Param(bicep.Modules[module].Deployment, "lockEnabled"));
        }
    }

    [Fact]
    public void No_storage_account_anywhere_accepts_shared_keys()
    {
        var accounts = AllTemplates().SelectMany(t => BicepFixture.Resources(t.Template).Where(r => BicepFixture.Type(r) == "Microsoft.Storage/storageAccounts" && !r.TryGetProperty("existing", out _)).Select(r => (t.Path, Account: r))).ToList();
        // Host storage, both backup accounts, the standby's host storage.
        Assert.Equal(4, accounts.Count);
        Assert.All(accounts, a =>
        {
            Assert.False(a.Account.GetProperty("properties").GetProperty("allowSharedKeyAccess").GetBoolean(), a.Path);
            Assert.False(a.Account.GetProperty("properties").GetProperty("allowBlobPublicAccess").GetBoolean(), a.Path);
        });
    }

    [Fact]
    public void Application_insights_takes_entra_tokens_only_and_the_identity_may_publish()
    {
        foreach (var (path, template) in AllTemplates().Where(t => t.Path.EndsWith("monitoring", StringComparison.Ordinal)))
        {
            var component = Assert.Single(BicepFixture.Resources(template), r => BicepFixture.Type(r) == "Microsoft.Insights/components");
            Assert.True(component.GetProperty("properties").GetProperty("DisableLocalAuth").GetBoolean(), path);
        }
        var app = bicep.Modules["function-app"];
        var settings = Assert.Single(BicepFixture.Resources(app.Template), r => r.GetProperty("name").GetString()!.Contains("appsettings", StringComparison.Ordinal)).GetProperty("properties").GetString()!;
        Assert.Contains("'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', format('ClientId={0};Authorization=AAD', parameters('identityClientId'))", settings, StringComparison.Ordinal);
        // Telemetry is refused until the role exists.
        Assert.Contains(app.Deployment.GetProperty("dependsOn").EnumerateArray(), d => d.GetString()!.Contains("telemetry-access", StringComparison.Ordinal));
    }

    [Fact]
    public void Vnet_enabled_puts_both_backup_accounts_and_the_vault_behind_private_endpoints_and_integrates_the_app()
    {
        var main = bicep.Template;
        Assert.False(main.GetProperty("parameters").GetProperty("vnetEnabled").GetProperty("defaultValue").GetBoolean());
        var endpoints = BicepFixture.Resources(main).Single(r => r.TryGetProperty("copy", out var c) && c.GetProperty("name").GetString() == "endpoints");
        Assert.Equal("[parameters('vnetEnabled')]", endpoints.GetProperty("condition").GetString());
        var targets = main.GetProperty("variables").GetProperty("primaryEndpoints").EnumerateArray().Select(e => $"{e.GetProperty("name").GetString()}:{e.GetProperty("group").GetString()}").ToList();
        Assert.Equal(["backups-secondary:blob", "backups:blob", "vault:vault"], targets.Order());
        var target = Param(endpoints, "targetId");
        foreach (var module in new[] { "'backup-storage'", "'backup-storage-secondary'", "'key-vault'" })
        {
            Assert.Contains(module, target, StringComparison.Ordinal);
        }
        // Each endpoint registers in its private DNS zone.
        var endpoint = endpoints.GetProperty("properties").GetProperty("template");
        Assert.Single(BicepFixture.Resources(endpoint), r => BicepFixture.Type(r) == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups");
        var zones = bicep.Modules["private-dns"].Template.GetProperty("variables").GetProperty("zoneNames").EnumerateArray().Select(z => z.GetString()!).ToList();
        Assert.Contains(zones, z => z.StartsWith("[format('privatelink.blob.{0}'", StringComparison.Ordinal));
        Assert.Contains(zones, z => z.Contains("keyvaultDns", StringComparison.Ordinal));

        // Public network access follows the switch; off means only the private endpoints reach them.
        foreach (var module in new[] { "backup-storage", "backup-storage-secondary", "key-vault" })
        {
            Assert.Equal("[parameters('vnetEnabled')]", Param(bicep.Modules[module].Deployment, "privateOnly"));
            var resource = BicepFixture.Resources(bicep.Modules[module].Template).Single(r => BicepFixture.Type(r) is "Microsoft.Storage/storageAccounts" or "Microsoft.KeyVault/vaults");
            Assert.Equal("[if(parameters('privateOnly'), 'Disabled', 'Enabled')]", resource.GetProperty("properties").GetProperty("publicNetworkAccess").GetString());
        }
        // VNet integration: the app's outbound traffic (PostgreSQL with private access included) goes through the VNet.
        Assert.Equal("[if(parameters('vnetEnabled'), createObject('value', reference(resourceId('Microsoft.Resources/deployments', 'network'), '2025-04-01').outputs.appSubnetId.value), createObject('value', ''))]",
            Param(bicep.Modules["function-app"].Deployment, "subnetId"));
        var site = BicepFixture.Resources(bicep.Modules["function-app"].Template).Single(r => BicepFixture.Type(r) == "Microsoft.Web/sites");
        Assert.Equal("[if(empty(parameters('subnetId')), null(), parameters('subnetId'))]", site.GetProperty("properties").GetProperty("virtualNetworkSubnetId").GetString());
        Assert.Contains("vnetRouteAllEnabled", site.GetProperty("properties").GetProperty("siteConfig").GetString(), StringComparison.Ordinal);
        // The integration subnet is delegated to the plan the hosting choice uses.
        Assert.Equal("[if(equals(parameters('hosting'), 'flex'), 'Microsoft.App/environments', 'Microsoft.Web/serverFarms')]",
            bicep.Modules["network"].Template.GetProperty("variables").GetProperty("delegation").GetString());
    }

    [Fact]
    public void Standby_enabled_deploys_a_cold_app_in_the_second_region_on_the_second_copy_with_timers_off()
    {
        var main = bicep.Template;
        Assert.False(main.GetProperty("parameters").GetProperty("standbyEnabled").GetProperty("defaultValue").GetBoolean());
        var (deployment, standby) = bicep.Modules["standby"];
        Assert.Equal("[parameters('standbyEnabled')]", deployment.GetProperty("condition").GetString());
        Assert.Equal("[parameters('secondaryLocation')]", Param(deployment, "location"));

        // Its settings: the primary's, with the second copy as its store, no further copy, its own vault, timers off.
        var settings = Param(deployment, "appSettings");
        var primary = Param(bicep.Modules["function-app"].Deployment, "appSettings");
        Assert.StartsWith("[union(createObject('DATABASE_URL', parameters('databaseUrl')", settings, StringComparison.Ordinal);
        var overrides = settings[settings.LastIndexOf("createObject('BACKUP_BLOB_SERVICE_URI'", StringComparison.Ordinal)..];
        Assert.Contains("'BACKUP_BLOB_SERVICE_URI', reference(resourceId('Microsoft.Resources/deployments', 'backup-storage-secondary')", overrides, StringComparison.Ordinal);
        Assert.Contains("'BACKUP_BLOB_CONTAINER', reference(resourceId('Microsoft.Resources/deployments', 'backup-storage-secondary')", overrides, StringComparison.Ordinal);
        Assert.Contains("'BACKUP_SECONDARY_STORE', 'none'", overrides, StringComparison.Ordinal);
        Assert.Contains($"'{TimerSwitch.Setting}', 'false'", overrides, StringComparison.Ordinal);
        Assert.DoesNotContain("'key-vault'", overrides, StringComparison.Ordinal);
        Assert.Contains($"'{TimerSwitch.Setting}', 'true'", primary, StringComparison.Ordinal);
        Assert.DoesNotContain($"'{TimerSwitch.Setting}', 'false'", primary, StringComparison.Ordinal);

        // Its own identity, task hub, vault and telemetry, in its region; the same app module and auth.
        var modules = BicepFixture.Resources(standby).Where(r => BicepFixture.Type(r) == "Microsoft.Resources/deployments").ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.Equal(["standby-function-app", "standby-host-storage", "standby-key-vault", "standby-monitoring", "standby-telemetry-access"], modules.Keys.Order());
        Assert.Equal("[format('sty{0}', parameters('token'))]", Param(modules["standby-host-storage"], "name"));
        Assert.Equal("[union(parameters('appSettings'), createObject('KEY_VAULT_URI', reference(resourceId('Microsoft.Resources/deployments', 'standby-key-vault'), '2025-04-01').outputs.uri.value))]",
            Param(modules["standby-function-app"], "appSettings"));
        Assert.Contains("standby-host-storage", Param(modules["standby-function-app"], "hostStorageName"), StringComparison.Ordinal);
        // azd deploys to the site tagged azd-service-name: the primary only.
        Assert.False(modules["standby-function-app"].GetProperty("properties").GetProperty("parameters").TryGetProperty("siteTags", out _));
        var identity = BicepFixture.Resources(main).Single(r => BicepFixture.Type(r) == "Microsoft.ManagedIdentity/userAssignedIdentities" && r.TryGetProperty("condition", out _));
        Assert.Equal("[parameters('secondaryLocation')]", identity.GetProperty("location").GetString());
        Assert.Equal("[parameters('standbyEnabled')]", identity.GetProperty("condition").GetString());
        // The image is replicated to its region (a Premium registry), so it can still pull during the outage.
        Assert.Equal("[if(parameters('standbyEnabled'), createObject('value', parameters('secondaryLocation')), createObject('value', ''))]", Param(bicep.Modules["registry"].Deployment, "replicaLocation"));
        Assert.Single(BicepFixture.Resources(bicep.Modules["registry"].Template), r => BicepFixture.Type(r) == "Microsoft.ContainerRegistry/registries/replications");
        // With vnetEnabled too: its own VNet and private endpoints to the second copy and its vault.
        Assert.Equal("[and(parameters('vnetEnabled'), parameters('standbyEnabled'))]", bicep.Modules["network-standby"].Deployment.GetProperty("condition").GetString());
    }

    [Fact]
    public void The_app_is_tagged_for_azd_and_azure_yaml_deploys_the_image_to_it()
    {
        var main = bicep.Template;
        Assert.Equal("functions", main.GetProperty("variables").GetProperty("serviceTags").GetProperty("azd-service-name").GetString());
        Assert.Equal("[variables('serviceTags')]", Param(bicep.Modules["function-app"].Deployment, "siteTags"));
        Assert.Contains("'azd-env-name'", main.GetProperty("variables").GetProperty("allTags").GetString(), StringComparison.Ordinal);
        Assert.True(main.GetProperty("outputs").TryGetProperty("AZURE_CONTAINER_REGISTRY_ENDPOINT", out _));

        var yaml = File.ReadAllLines(Path.Combine(Fixtures.RepositoryRoot, "azure.yaml"));
        string Value(string key) => yaml.Select(l => l.Trim()).Single(l => l.StartsWith($"{key}:", StringComparison.Ordinal))[(key.Length + 1)..].Trim();
        Assert.Contains("  functions:", yaml);
        Assert.Equal("function", Value("host"));
        Assert.Equal("true", Value("remoteBuild"));
        Assert.Contains("      path: ./Dockerfile", yaml);
        Assert.Contains("  path: infra/bicep", yaml);

        // azd's parameters file names every required parameter of main.bicep.
        var parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "infra", "bicep", "main.parameters.json"))).RootElement.GetProperty("parameters");
        var required = main.GetProperty("parameters").EnumerateObject().Where(p => !p.Value.TryGetProperty("defaultValue", out _)).Select(p => p.Name).ToList();
        Assert.All(required, name => Assert.True(parameters.TryGetProperty(name, out _), $"main.parameters.json lacks {name}"));
        Assert.All(parameters.EnumerateObject(), p => Assert.True(main.GetProperty("parameters").TryGetProperty(p.Name, out _), $"main.bicep has no parameter {p.Name}"));
        Assert.Equal("${SERVICE_FUNCTIONS_IMAGE_NAME=}", parameters.GetProperty("containerImage").GetProperty("value").GetString());
    }

    [Fact]
    public void The_webhook_stays_outside_interactive_sign_in_on_its_own_function_key()
    {
        var app = bicep.Modules["function-app"].Template;
        var excluded = app.GetProperty("parameters").GetProperty("authExcludedPaths").GetProperty("defaultValue").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains($"/api/{KeyVaultEventsFunction.Route}", excluded);
        // Its key belongs to that function alone (Microsoft.Web/sites/functions/keys), never a host key.
        var events = bicep.Modules["keyvault-events"].Template;
        Assert.Single(BicepFixture.Resources(events), r => BicepFixture.Type(r) == "Microsoft.Web/sites/functions/keys");
        Assert.DoesNotContain("host/default", events.GetRawText(), StringComparison.Ordinal);
    }
}
