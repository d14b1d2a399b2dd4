// The container registry the image is pushed to (azd deploy builds it there: docker.remoteBuild) and pulled from
// with the app's identity (AcrPull). No admin user, so no registry password exists.

import { roles } from 'roles.bicep'

param name string
param location string
param tags object

@description('Identities that pull the image (the app, the standby).')
param pullPrincipalIds array

@description('A second region to replicate the image to (the standby\'s): a regional outage must not leave it unable to pull. Needs Premium. Empty: none.')
param replicaLocation string = ''

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: empty(replicaLocation) ? 'Basic' : 'Premium'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource replica 'Microsoft.ContainerRegistry/registries/replications@2023-07-01' = if (!empty(replicaLocation)) {
  parent: registry
  name: empty(replicaLocation) ? 'none' : replicaLocation
  location: empty(replicaLocation) ? location : replicaLocation
  tags: tags
  properties: {}
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in pullPrincipalIds: {
    name: guid(registry.id, principalId, roles.acrPull)
    scope: registry
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = registry.name
output loginServer string = registry.properties.loginServer
