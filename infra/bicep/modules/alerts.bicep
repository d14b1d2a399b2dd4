// What pages and mails people from Azure Monitor, beside the app's own PagerDuty/Slack alerts (Floyo.Recovery
// Notifications): one action group, a dead-man's switch that fires even when the app is down, the app's own
// failure events, HTTP 5xx on the Function app, an availability test on /api/health, and diagnostic settings
// that send Key Vault, both backup accounts and the Function app into the Log Analytics workspace. Its own
// module, deployed after the Function app: the app needs Application Insights (monitoring.bicep) first.

param location string
param tags object

@description('Short name for rule names.')
param name string

param workspaceId string
param appInsightsName string
param functionAppName string
param keyVaultName string

@description('The primary and the secondary backup accounts.')
param backupAccountNames array

@description('Stakeholder e-mail addresses: every alert of the action group.')
param alertEmails array = []

@secure()
@description('PagerDuty\'s Azure Monitor integration URL (https://events.pagerduty.com/integration/<key>/enqueue). Empty: none.')
param pagerDutyAlertWebhookUrl string = ''

@secure()
@description('A chat webhook taking the common alert schema (e.g. a Slack workflow or a Logic App posting to Slack). Empty: none.')
param chatAlertWebhookUrl string = ''

@description('Hours without a successful full backup before the dead-man\'s switch fires (a daily backup plus slack).')
@minValue(2)
@maxValue(47)
param backupMaxAgeHours int = 26

@description('HTTP 5xx answers of the Function app within 15 minutes that raise the 5xx alert.')
@minValue(1)
param http5xxThreshold int = 5

@description('Resource id of the Azure Database for PostgreSQL flexible server holding the database. Empty: no storage alert (a self-hosted server is watched by the database-size check, DATABASE_CAPACITY_GB).')
param postgresServerId string = ''

@description('Percent of the flexible server\'s storage in use that raises the storage alert.')
@minValue(50)
@maxValue(99)
param storagePercentThreshold int = 85

@description('Availability test locations (Application Insights location ids).')
param availabilityLocations array = [
  'emea-nl-ams-azr'
  'emea-gb-db3-azr'
  'us-va-ash-azr'
]

@description('Create the availability test on /api/health. It calls with the host\'s default function key, which exists once the app\'s code runs: turn this on in a second deployment, after the code is published (like the Key Vault events).')
param enableAvailabilityTest bool = false

// The event FullBackupSucceeded (Floyo.Recovery.Notifications.AlertLogs), written once a full backup is taken, checked and not suspect.
var fullBackupSucceededEventId = '8810'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: last(split(workspaceId, '/'))
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource backupBlobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = [for account in backupAccountNames: {
  name: '${account}/default'
}]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${name}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('floyo-dr', 12)
    enabled: true
    emailReceivers: [for (email, i) in alertEmails: {
      name: 'email-${i}'
      emailAddress: email
      useCommonAlertSchema: true
    }]
    webhookReceivers: concat(
      empty(pagerDutyAlertWebhookUrl) ? [] : [{ name: 'pagerduty', serviceUri: pagerDutyAlertWebhookUrl, useCommonAlertSchema: true }],
      empty(chatAlertWebhookUrl) ? [] : [{ name: 'chat', serviceUri: chatAlertWebhookUrl, useCommonAlertSchema: true }])
  }
}

// Absence of the success event, queried in the workspace: fires when the app is down, stopped or its timer is dead.
// Armed only once the workspace holds data older than the limit, so a fresh deployment stays quiet for its first day.
resource noRecentBackup 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${name}-no-recent-backup'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Floyo DR: no successful full backup in ${backupMaxAgeHours} h'
    description: 'Dead-man\'s switch: no FullBackupSucceeded event (EventId ${fullBackupSucceededEventId}) in the last ${backupMaxAgeHours} hours. The app may be down, its timer stopped, or every backup failing.'
    severity: 1
    enabled: true
    scopes: [workspace.id]
    evaluationFrequency: 'PT1H'
    windowSize: 'P2D'
    autoMitigate: true
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          // Multi-line strings do not interpolate: the limit and the event id go in by replace().
          query: replace(replace('''
let limit = @@LIMIT@@h;
let succeeded = toscalar(union isfuzzy=true (datatable(TimeGenerated: datetime, Properties: dynamic)[]), AppTraces
  | where TimeGenerated > ago(limit) and tostring(Properties.EventId) == "@@EVENT@@"
  | count);
let armed = toscalar(union isfuzzy=true (datatable(TimeGenerated: datetime)[]), AzureMetrics, AppTraces, AppRequests
  | where TimeGenerated < ago(limit)
  | take 1
  | count) > 0;
print succeeded = succeeded, armed = armed
| where armed and succeeded == 0
''', '@@LIMIT@@', string(backupMaxAgeHours)), '@@EVENT@@', fullBackupSucceededEventId)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

// The app's own failures: its Error and Critical events (workflow failed, ALERT, a channel that did not take an
// alert), one alert per event id. Warnings (e.g. a feature that is not configured) never fire.
resource appFailures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${name}-app-failures'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Floyo DR: failure events'
    description: 'floyo-dr logged an Error or Critical event (a failed workflow, an ALERT, an alert channel that did not answer).'
    severity: 2
    enabled: true
    scopes: [workspace.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: '''
union isfuzzy=true (datatable(TimeGenerated: datetime, SeverityLevel: int, Properties: dynamic)[]), AppTraces
| where SeverityLevel >= 3 and tostring(Properties.CategoryName) startswith "Floyo."
| extend EventId = tostring(Properties.EventId)
'''
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'EventId'
              operator: 'Include'
              values: ['*']
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

resource http5xx 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${name}-http-5xx'
  location: 'global'
  tags: tags
  properties: {
    description: 'The Function app answered ${http5xxThreshold} or more requests with HTTP 5xx within 15 minutes.'
    severity: 2
    enabled: true
    scopes: [site.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'http5xx'
          metricNamespace: 'Microsoft.Web/sites'
          metricName: 'Http5xx'
          timeAggregation: 'Total'
          operator: 'GreaterThanOrEqual'
          threshold: http5xxThreshold
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// The managed server's own disk (data, WAL, temporary files): its storage_percent platform metric, only when the server is given.
resource postgresStorage 'Microsoft.Insights/metricAlerts@2018-03-01' = if (!empty(postgresServerId)) {
  name: 'alert-${name}-postgres-storage'
  location: 'global'
  tags: tags
  properties: {
    description: 'The PostgreSQL flexible server has used more than ${storagePercentThreshold}% of its storage for 15 minutes. Grow the storage (or turn on storage auto-grow) before writes stop.'
    severity: 1
    enabled: true
    scopes: [postgresServerId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'storagePercent'
          metricNamespace: 'Microsoft.DBforPostgreSQL/flexibleServers'
          metricName: 'storage_percent'
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: storagePercentThreshold
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

var healthTestName = 'webtest-${name}-health'

// /api/health needs a function key even though it is excluded from sign-in.
resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = if (enableAvailabilityTest) {
  name: healthTestName
  location: location
  // Application Insights shows a web test only when it is linked to the component by this tag.
  tags: union(tags, { 'hidden-link:${appInsights.id}': 'Resource' })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: healthTestName
    Name: 'Floyo DR /api/health'
    Description: '/api/health answers 200 within 30 s from every location.'
    Enabled: true
    Frequency: 300
    Timeout: 30
    Kind: 'standard'
    RetryEnabled: true
    Locations: [for l in availabilityLocations: {
      Id: l
    }]
    Request: {
      RequestUrl: 'https://${site.properties.defaultHostName}/api/health'
      HttpVerb: 'GET'
      Headers: [
        {
          key: 'x-functions-key'
          value: listKeys('${site.id}/host/default', '2024-04-01').functionKeys.default
        }
      ]
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource healthTestAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = if (enableAvailabilityTest) {
  name: 'alert-${name}-health'
  location: 'global'
  tags: tags
  properties: {
    description: '/api/health failed from 2 or more locations.'
    severity: 1
    enabled: true
    scopes: [healthTest.id, appInsights.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: healthTest.id
      componentId: appInsights.id
      failedLocationCount: 2
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-workspace'
  scope: vault
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// Blob reads, writes and deletes of both backup accounts: who touched a backup, and when.
resource backupDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [for (account, i) in backupAccountNames: {
  name: 'to-workspace'
  scope: backupBlobServices[i]
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}]

resource appDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-workspace'
  scope: site
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output actionGroupId string = actionGroup.id
