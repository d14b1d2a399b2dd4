// The Functions app, on one of two hosts (hosting):
//   container: an Elastic Premium plan (Linux) running the repository's image (Dockerfile) from the registry,
//              with the PostgreSQL client tools at PG_BIN_DIR. The only choice that can take a backup.
//   flex:      Flex Consumption (zip package, dotnet-isolated 10.0). It has no pg_dump, pg_restore or
//              pg_basebackup and no custom containers: only for work that needs no client tools.
// Both allow host.json's functionTimeout of 02:00:00 (the classic Consumption plan stops at 10 minutes), and both
// reach everything through one user-assigned identity: host storage, registry or package, backups, Key Vault.

param name string
param planName string
param location string
param tags object

@allowed(['container', 'flex'])
@description('container: Elastic Premium with the image (client tools inside); flex: Flex Consumption (no client tools).')
param hosting string = 'container'

@description('Image the container host runs (registry/repository:tag). Empty: the public Functions base image, a placeholder until azd deploy pushes the app\'s image.')
param containerImage string = ''

@description('Login server of the registry the image comes from (pulled with the identity). Empty: a public image.')
param registryLoginServer string = ''

@allowed(['EP1', 'EP2', 'EP3'])
@description('Elastic Premium size (container hosting). EP1: 1 core, 3.5 GB.')
param premiumSku string = 'EP1'

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity (AzureWebJobsStorage__clientId, AZURE_CLIENT_ID, Application Insights\' Entra authentication).')
param identityClientId string

param hostStorageName string
param deploymentContainerName string
param appInsightsName string

@description('The app\'s own settings (every setting floyo-dr reads), merged over the host settings.')
param appSettings object

@allowed([2048, 4096])
@description('Memory per instance (Flex); restores decompress dumps locally, so more is better.')
param instanceMemoryMB int = 4096

@minValue(1)
@maxValue(1000)
@description('Upper bound on instances. Durable work is spread across them; the engine never runs two backups of one database at once.')
param maximumInstanceCount int = 10

@description('Subnet for VNet integration (outbound traffic, private endpoints, a PostgreSQL server with private access). Empty: none.')
param subnetId string = ''

@description('Client (application) id of the Entra app registration that callers sign in to (App Service Authentication).')
param authClientId string

@description('Entra tenant of that app registration.')
param authTenantId string

@description('Paths reachable without signing in (each still needs its function key): Event Grid\'s webhook, the health probe.')
param authExcludedPaths array = [
  '/api/events/keyvault'
  '/api/health'
]

@description('azd tags (azd-service-name, azd-env-name) merged over tags on the site only. Empty: none.')
param siteTags object = {}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var isFlex = hosting == 'flex'

// The two plans, by hosting. Elastic Premium keeps one instance warm so the 02:00 timer never waits for a cold start.
var plans = {
  flex: {
    kind: 'functionapp'
    sku: {
      tier: 'FlexConsumption'
      name: 'FC1'
    }
    properties: {
      reserved: true
    }
  }
  container: {
    kind: 'elastic'
    sku: {
      tier: 'ElasticPremium'
      name: premiumSku
    }
    properties: {
      reserved: true
      maximumElasticWorkerCount: maximumInstanceCount
    }
  }
}

// The placeholder lets the first provision succeed before any image exists; azd deploy replaces it.
var image = empty(containerImage) ? 'mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0' : containerImage

var siteConfigs = {
  flex: {}
  container: {
    linuxFxVersion: 'DOCKER|${image}'
    // The image is pulled with the app's identity: no registry password anywhere.
    acrUseManagedIdentityCreds: !empty(registryLoginServer)
    acrUserManagedIdentityID: empty(registryLoginServer) ? null : identityClientId
    minimumElasticInstanceCount: 1
    functionAppScaleLimit: maximumInstanceCount
  }
}

var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
      authentication: {
        type: 'UserAssignedIdentity'
        userAssignedIdentityResourceId: identityId
      }
    }
  }
  scaleAndConcurrency: {
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
  runtime: {
    name: 'dotnet-isolated'
    version: '10.0'
  }
}

// Flex sets the worker runtime from functionAppConfig and refuses FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION as app settings; a container needs both. The image runs as a non-root user, so
// the host listens on 8080 (WEBSITES_PORT), and a container has no content share (WEBSITES_ENABLE_APP_SERVICE_STORAGE).
var hostingSettings = {
  flex: {}
  container: {
    FUNCTIONS_EXTENSION_VERSION: '~4'
    FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
    WEBSITES_PORT: '8080'
    WEBSITES_ENABLE_APP_SERVICE_STORAGE: 'false'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: plans[hosting].kind
  sku: plans[hosting].sku
  properties: plans[hosting].properties
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, siteTags)
  kind: isFlex ? 'functionapp,linux' : 'functionapp,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references in app settings (STAGING_DATABASE_URL) resolve with the same identity.
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: union({
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // With VNet integration every outbound call (PostgreSQL, private endpoints) goes through the VNet.
      vnetRouteAllEnabled: !empty(subnetId)
    }, siteConfigs[hosting])
    functionAppConfig: isFlex ? flexConfig : null
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  // The third copy (BACKUP_TERTIARY_*, the plan's off-site server) is not deployed here: off unless main.bicep's
  // appSettings (which win) set it. BACKUP_TERTIARY_DIR and _CONNECTION_STRING are local only.
  properties: union({
    BACKUP_TERTIARY_STORE: 'none'
    BACKUP_TERTIARY_BLOB_SERVICE_URI: ''
    BACKUP_TERTIARY_BLOB_CONTAINER: 'backups'
    BACKUP_TERTIARY_IMMUTABILITY_MODE: ''
  }, appSettings, hostingSettings[hosting], {
    // Identity-based host storage: blob, queue and table endpoints are derived from the account name.
    AzureWebJobsStorage__accountName: hostStorage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // DefaultAzureCredential (Key Vault, Blob) picks the user-assigned identity by this.
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    // Application Insights takes Entra tokens only (local auth is off): the host and the worker send with the identity.
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  })
}

// App Service Authentication: every request but the excluded paths needs an Entra token for the app registration
// (401 otherwise), and the platform, not the caller, sets X-MS-CLIENT-PRINCIPAL (WEBSITE_AUTH_ENABLED=True). The
// API takes identity and the approver role only from there: the two-person rule is between two signed-in people.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: authExcludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
