// The Floyo DR workbook in the portal: backups per day (count, size, duration), the recovery point's age over time,
// the last drills' RTO/RPO against the plan's targets, open incidents and failures. Every query reads what the app
// itself writes into the workspace: the Floyo.DR meter (AppMetrics; src/Floyo.Recovery/Metrics/DrMetrics.cs) and its
// log events (AppTraces; IncidentAlerts 8800 opened / 8802 resolved, checks 9200-9203, every Error/Critical event).

param location string
param tags object

@description('Short name for the workbook\'s display name.')
param name string

param workspaceId string

@description('The plan\'s RTO target in hours, drawn beside the drills\' measurements.')
param rtoTargetHours int = 4

@description('The plan\'s RPO target in hours.')
param rpoTargetHours int = 1

var backupsPerDay = '''
AppMetrics
| where Name in ("floyo.dr.backup.duration", "floyo.dr.backup.size", "floyo.dr.backup.compression_ratio")
| extend database = tostring(Properties.database), kind = tostring(Properties.kind)
| summarize backups = sumif(ItemCount, Name == "floyo.dr.backup.duration"),
    avgDurationSeconds = round(sumif(Sum, Name == "floyo.dr.backup.duration") / sumif(ItemCount, Name == "floyo.dr.backup.duration"), 1),
    maxDurationSeconds = round(maxif(Max, Name == "floyo.dr.backup.duration"), 1),
    storedMiB = round(sumif(Sum, Name == "floyo.dr.backup.size") / 1048576.0, 1),
    compressionRatio = round(sumif(Sum, Name == "floyo.dr.backup.compression_ratio") / sumif(ItemCount, Name == "floyo.dr.backup.compression_ratio"), 2)
    by day = bin(TimeGenerated, 1d), database, kind
| order by day desc, database asc, kind asc
'''

var recoveryPointAge = '''
AppMetrics
| where Name == "floyo.dr.recovery_point.age"
| summarize ageHours = round(max(Max) / 3600.0, 2) by bin(TimeGenerated, 15m), source = tostring(Properties.source)
| render timechart
'''

var drills = replace(replace('''
AppMetrics
| where Name in ("floyo.dr.drill.rto", "floyo.dr.drill.rpo")
| extend scenario = tostring(Properties.scenario), status = tostring(Properties.status)
| summarize rtoMinutes = round(maxif(Max, Name == "floyo.dr.drill.rto") / 60.0, 1), rpoMinutes = round(maxif(Max, Name == "floyo.dr.drill.rpo") / 60.0, 1)
    by at = bin(TimeGenerated, 1m), scenario, status
| extend rtoTargetMinutes = @@RTO@@ * 60, rpoTargetMinutes = @@RPO@@ * 60
| extend rtoMet = rtoMinutes <= rtoTargetMinutes, rpoMet = rpoMinutes <= rpoTargetMinutes
| top 10 by at desc
''', '@@RTO@@', string(rtoTargetHours)), '@@RPO@@', string(rpoTargetHours))

// An incident is open when its key's newest event is "opened" (8800) rather than "resolved" (8802).
var openIncidents = '''
AppTraces
| where TimeGenerated > ago(90d) and tostring(Properties.EventId) in ("8800", "8802")
| extend key = tostring(Properties.Key), event = tostring(Properties.EventId)
| summarize arg_max(TimeGenerated, event, Message) by key
| where event == "8800"
| project openedAt = TimeGenerated, key, Message
| order by openedAt desc
'''

var failures = '''
AppTraces
| where tostring(Properties.CategoryName) startswith "Floyo."
| where SeverityLevel >= 3 or tostring(Properties.EventId) == "9201"
| extend eventId = tostring(Properties.EventId), what = iff(tostring(Properties.EventId) == "9201", strcat("check ", tostring(Properties.Check)), tostring(Properties.CategoryName))
| summarize failures = count(), last = max(TimeGenerated), example = take_any(Message) by day = bin(TimeGenerated, 1d), eventId, what
| order by day desc, failures desc
'''

var queries = [
  { name: 'backups-per-day', title: 'Backups per day: count, duration, stored size, compression', query: backupsPerDay, visualization: 'table' }
  { name: 'recovery-point-age', title: 'Recovery point age (hours), from the checks every 15 minutes', query: recoveryPointAge, visualization: 'timechart' }
  { name: 'last-drills', title: 'Last drills: RTO and RPO against the targets (${rtoTargetHours} h / ${rpoTargetHours} h)', query: drills, visualization: 'table' }
  { name: 'open-incidents', title: 'Open incidents (one per cause)', query: openIncidents, visualization: 'table' }
  { name: 'failures', title: 'Failures: Error/Critical events and check findings per day', query: failures, visualization: 'table' }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat([
    {
      type: 1
      name: 'title'
      content: {
        json: '## Floyo DR\nBackups, recovery point, drills, incidents and failures, from the app\'s own metrics (Floyo.DR meter) and log events. See docs/monitoring.md.'
      }
    }
  ], map(queries, q => {
    type: 3
    name: q.name
    content: {
      version: 'KqlItem/1.0'
      title: q.title
      query: q.query
      size: 0
      queryType: 0
      resourceType: 'microsoft.operationalinsights/workspaces'
      visualization: q.visualization
      timeContext: {
        durationMs: 2592000000
      }
    }
  }))
  fallbackResourceIds: [workspaceId]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per resource group, so redeployments update it.
  name: guid(resourceGroup().id, 'floyo-dr-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Floyo DR (${name})'
    category: 'workbook'
    sourceId: workspaceId
    serializedData: string(workbookContent)
  }
}

output workbookId string = workbook.id
