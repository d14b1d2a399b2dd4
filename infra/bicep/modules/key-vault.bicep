// Key Vault in RBAC mode: the app's identity is Key Vault Secrets Officer (read, add versions, change tags
// and enabled flags; no purge, no access administration). Soft delete and purge protection keep a
// deleted or overwritten credential recoverable.
//
// Secrets: DATABASE_PASSWORD_SECRET (floyo-dr's own PostgreSQL password) is written only when a value is
// passed, so a redeployment without it never touches the live one. The application's credential
// (APP_DB_SECRET) is deliberately not written here: any value a template writes would become its current
// version on every redeployment, replacing the live, rotated credential. The first rotation issues it
// (`floyo-dr credentials init` against this vault, or the rotation workflow once the roles exist).

import { roles } from 'roles.bicep'

param name string
param location string
param tags object

@description('Principal (the app\'s managed identity) that reads and rotates secrets.')
param appPrincipalId string

@description('Optional: an operators\' group that may run floyo-dr against the vault (credentials init, rotate-credentials). Empty: none.')
param operatorPrincipalId string = ''

@description('Name of the secret that holds floyo-dr\'s own database password (DATABASE_PASSWORD_SECRET).')
param databasePasswordSecretName string

@secure()
@description('floyo-dr\'s own database password. Empty: the secret is left as it is (set it with az keyvault secret set).')
param databasePassword string = ''

@description('A CanNotDelete lock on the vault.')
param lockEnabled bool = true

@description('Reached through a private endpoint only (vnetEnabled): public network access off.')
param privateOnly bool = false

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource databasePasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(databasePassword)) {
  parent: vault
  name: databasePasswordSecretName
  properties: {
    value: databasePassword
    contentType: 'text/plain'
  }
}

resource appAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: 'Group'
  }
}

resource lock 'Microsoft.Authorization/locks@2020-05-01' = if (lockEnabled) {
  name: '${name}-no-delete'
  scope: vault
  properties: {
    level: 'CanNotDelete'
    notes: 'Floyo DR credentials: remove this lock deliberately before deleting the vault.'
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
