// The Functions app on Flex Consumption (Linux, dotnet-isolated 10.0). Flex allows an unbounded function
// timeout, so host.json's functionTimeout of 02:00:00 (long backups and restores) is honoured; the classic
// Consumption plan would cap it at 10 minutes. Everything is reached through one user-assigned identity:
// the host storage, the deployment package, the backup accounts, Key Vault.

param name string
param planName string
param location string
param tags object

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity (AzureWebJobsStorage__clientId, AZURE_CLIENT_ID).')
param identityClientId string

param hostStorageName string
param deploymentContainerName string
param appInsightsName string

@description('The app\'s own settings (every setting floyo-dr reads), merged over the host settings.')
param appSettings object

@allowed([2048, 4096])
@description('Memory per instance; restores decompress dumps locally, so more is better.')
param instanceMemoryMB int = 4096

@minValue(1)
@maxValue(1000)
@description('Upper bound on instances. Durable work is spread across them; the engine never runs two backups of one database at once.')
param maximumInstanceCount int = 10

@description('Client (application) id of the Entra app registration that callers sign in to (App Service Authentication).')
param authClientId string

@description('Entra tenant of that app registration.')
param authTenantId string

@description('Paths reachable without signing in (each still needs its function key): Event Grid\'s webhook, the health probe.')
param authExcludedPaths array = [
  '/api/events/keyvault'
  '/api/health'
]

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
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
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
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
  }
}

// Flex Consumption sets the worker runtime from functionAppConfig and refuses FUNCTIONS_WORKER_RUNTIME
// and FUNCTIONS_EXTENSION_VERSION as app settings, so neither appears here.
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
  }, appSettings, {
    // Identity-based host storage: blob, queue and table endpoints are derived from the account name.
    AzureWebJobsStorage__accountName: hostStorage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // DefaultAzureCredential (Key Vault, Blob) picks the user-assigned identity by this.
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
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
