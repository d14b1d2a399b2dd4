// A cold standby of the app in the second region (main.bicep: standbyEnabled): its own identity (created by
// main.bicep), host storage and task hub, Key Vault, Application Insights and plan, the same image and
// settings, its store the second copy, and its timers off (TIMERS_ENABLED=false) so it never competes with
// the primary. docs/azure.md's failover runbook turns it on.

param name string
param token string
param location string
param tags object

@allowed(['container', 'flex'])
param hosting string
param containerImage string
param registryLoginServer string

param identityId string
param identityClientId string
param identityPrincipalId string

@description('The standby\'s settings (main.bicep: the primary\'s, pointed at the second copy and this vault, timers off).')
param appSettings object

param subnetId string
param authClientId string
param authTenantId string
param operatorPrincipalId string
param databasePasswordSecretName string

@secure()
param databasePassword string

param vaultName string
param lockEnabled bool
param privateOnly bool

var deploymentContainerName = 'app-package'

module monitoring 'monitoring.bicep' = {
  name: 'standby-monitoring'
  params: {
    workspaceName: 'log-${name}-${token}-standby'
    appInsightsName: 'appi-${name}-${token}-standby'
    location: location
    tags: tags
  }
}

module telemetryAccess 'telemetry-access.bicep' = {
  name: 'standby-telemetry-access'
  params: {
    appInsightsName: monitoring.outputs.appInsightsName
    principalId: identityPrincipalId
  }
}

// Its own task hub: the primary's host storage may be in the region that is down.
module hostStorage 'host-storage.bicep' = {
  name: 'standby-host-storage'
  params: {
    name: 'sty${token}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    principalId: identityPrincipalId
  }
}

// The secrets the app needs, replicated here: floyo-dr's database password (when passed), and whatever the
// runbook copies (the application's credential, notification keys). Key Vault's own geo-replication is
// read-only during an outage; this vault stays writable, so rotation works after a failover.
module vault 'key-vault.bicep' = {
  name: 'standby-key-vault'
  params: {
    name: vaultName
    location: location
    tags: tags
    appPrincipalId: identityPrincipalId
    operatorPrincipalId: operatorPrincipalId
    databasePasswordSecretName: databasePasswordSecretName
    databasePassword: databasePassword
    lockEnabled: lockEnabled
    privateOnly: privateOnly
  }
}

module app 'function-app.bicep' = {
  name: 'standby-function-app'
  params: {
    name: 'func-${name}-${token}-standby'
    planName: 'plan-${name}-${token}-standby'
    location: location
    tags: tags
    hosting: hosting
    containerImage: containerImage
    registryLoginServer: registryLoginServer
    identityId: identityId
    identityClientId: identityClientId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    appSettings: union(appSettings, { KEY_VAULT_URI: vault.outputs.uri })
    subnetId: subnetId
    authClientId: authClientId
    authTenantId: authTenantId
  }
  dependsOn: [telemetryAccess]
}

output appName string = app.outputs.name
output keyVaultUri string = vault.outputs.uri
output keyVaultId string = vault.outputs.id
