// A backup account: versioning on, blob and container soft delete, and the backup container created with
// version-level immutability (WORM per blob version). Floyo DR sets each backup's retention itself
// (BACKUP_IMMUTABILITY_MODE); the container carries no default policy, so run records and reports stay
// deletable while backups cannot be changed or deleted before their retention ends. Version-level
// immutability can only be switched on when a container is created, and never off again.

import { roles } from 'roles.bicep'

param name string
param location string
param tags object

@description('The backup container.')
param containerName string = 'backups'

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param sku string = 'Standard_ZRS'

@description('Days deleted blobs and containers can be recovered.')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 14

@description('The apps\' managed identities (the primary app, the standby): the writer role on the container.')
param writerPrincipalIds array

@description('Role definition id (a GUID) of the backup writer role (modules/backup-writer-role.bicep): least privilege, never erases a version.')
param writerRoleGuid string

@description('Optional: an operators\' group with Storage Blob Data Reader on the container (floyo-dr list/restore from a workstation). Empty: none.')
param readerPrincipalId string = ''

@description('A CanNotDelete lock on the account: deleting it (and every backup with it) needs the lock removed first.')
param lockEnabled bool = true

@description('Reached through private endpoints only (vnetEnabled): public network access off.')
param privateOnly bool = false

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: sku
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
      bypass: 'None'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Version-level immutability requires versioning; it also keeps every overwritten or deleted version.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

resource writerAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in writerPrincipalIds: {
    name: guid(container.id, principalId, writerRoleGuid)
    scope: container
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', writerRoleGuid)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Management locks guard the control plane only: backups themselves are guarded by immutability and the writer role.
resource lock 'Microsoft.Authorization/locks@2020-05-01' = if (lockEnabled) {
  name: '${name}-no-delete'
  scope: account
  properties: {
    level: 'CanNotDelete'
    notes: 'Floyo DR backups: remove this lock deliberately before deleting the account.'
  }
}

resource readerAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(readerPrincipalId)) {
  name: guid(container.id, readerPrincipalId, roles.storageBlobDataReader)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: readerPrincipalId
    principalType: 'Group'
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerName string = container.name
