// Application Insights takes Entra-authenticated telemetry only (DisableLocalAuth): the apps' identities get
// Monitoring Metrics Publisher on the component, the one role ingestion needs.

import { roles } from 'roles.bicep'

param appInsightsName string

@description('Identities that send telemetry.')
param principalId string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
