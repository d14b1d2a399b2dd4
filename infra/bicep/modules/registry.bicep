// The container registry the image is pushed to (azd deploy builds it there: docker.remoteBuild) and pulled from
// with the app's identity (AcrPull). No admin user, so no registry password exists.

import { roles } from 'roles.bicep'

param name string
param location string
param tags object

@description('Identities that pull the image (the app, the standby).')
param pullPrincipalIds array

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
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
