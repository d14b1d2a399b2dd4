// Floyo DR in Azure: the Functions app (by default the repository's container image, with the PostgreSQL client
// tools, on Elastic Premium; or Flex Consumption, which has none) with its own storage, the immutable backup
// account and a second one in another region, Key Vault (RBAC), Application Insights (Entra authentication
// only) with Log Analytics, one user-assigned identity holding every permission the app needs, and (once the
// app's code is published) Key Vault's secret-expiry events wired to the app's webhook. Optional: private
// endpoints and VNet integration (vnetEnabled), a cold standby app in secondaryLocation (standbyEnabled).
//
//   azd up                                                   (azure.yaml, infra/bicep/main.parameters.json)
//   az deployment group create -g <rg> -f infra/bicep/main.bicep -p infra/bicep/main.bicepparam
//
// Every setting the app reads in Azure is set here (local-only ones, e.g. BACKUP_DIR, are not); see
// local.settings.sample.json for what each means. settingsOverrides replaces any of them by name.

@description('Short name for this deployment, used in resource names.')
@minLength(3)
@maxLength(12)
param name string = 'floyodr'

@description('Region of everything but the second backup copy.')
param location string = resourceGroup().location

@description('Region of the second backup copy: another region than location, so a regional outage leaves one copy.')
param secondaryLocation string

@description('floyo-dr\'s own login to the production database, without a password (it comes from Key Vault), e.g. postgresql://floyo_admin@server.postgres.database.azure.com:5432/floyo?sslmode=require')
param databaseUrl string

@secure()
@description('floyo-dr\'s database password, stored as the DATABASE_PASSWORD_SECRET secret. Empty: leave the secret as it is.')
param databasePassword string = ''

@description('Secret holding floyo-dr\'s database password (DATABASE_PASSWORD_SECRET).')
param databasePasswordSecretName string = 'floyo-dr-db'

@description('Server for verification and restore tests (VERIFY_DATABASE_URL), without a password. Empty: DATABASE_URL\'s server.')
param verifyDatabaseUrl string = ''

@description('Secret holding VERIFY_DATABASE_URL\'s password (VERIFY_DATABASE_PASSWORD_SECRET). Empty: none.')
param verifyDatabasePasswordSecretName string = ''

@description('Secret whose value is STAGING_DATABASE_URL (it carries a password), read through a Key Vault reference. Empty: drills are not configured.')
param stagingDatabaseUrlSecretName string = ''

@allowed(['container', 'flex'])
@description('container: Elastic Premium running the repository\'s image (Dockerfile: PostgreSQL client tools at /usr/lib/postgresql/<pgMajor>/bin); flex: Flex Consumption, which has no pg_dump/pg_restore/pg_basebackup (only for work that needs no client tools, or with pgBinDir shipped in the package).')
param hosting string = 'container'

@description('Image the container host runs; azd sets it after pushing (SERVICE_FUNCTIONS_IMAGE_NAME). Empty: a placeholder until the first azd deploy.')
param containerImage string = ''

@minValue(16)
@description('Major version of the PostgreSQL client tools in the image (the Dockerfile\'s PG_MAJOR build argument): at least the server\'s major.')
param pgMajor int = 17

@description('Flex Consumption only: folder of client tools shipped inside the package (PG_BIN_DIR). Empty: none (backups fail until you ship them).')
param pgBinDir string = ''

@description('Private endpoints (Blob of both backup accounts, Key Vault) with public network access off, and VNet integration of the app (also what reaches a PostgreSQL server with private access).')
param vnetEnabled bool = false

@description('Address space of the primary VNet (vnetEnabled); the standby\'s is the next /16.')
param vnetAddressPrefix string = '10.60.0.0/16'

@description('A second, cold instance of the app in secondaryLocation: its own task hub, Key Vault and Application Insights, its store the second copy, timers off (TIMERS_ENABLED=false). See docs/azure.md, failover.')
param standbyEnabled bool = false

@description('CanNotDelete locks on both backup accounts and the Key Vault(s).')
param locksEnabled bool = true

@description('azd environment name (AZURE_ENV_NAME), written as the azd-env-name tag. Empty: not deployed by azd.')
param environmentName string = ''

@description('WAL pull mode: the physical replication slot WalReceiveTimer drains with pg_receivewal (from PG_BIN_DIR) into the archive; empty: not configured.')
param walReceiveSlot string = ''

@description('The application\'s credential secret and login roles (APP_DB_*).')
param appDbSecretName string = 'floyo-app-db'
param appDbGroupRole string = 'floyo_app'
param appDbBlueRole string = 'floyo_app_blue'
param appDbGreenRole string = 'floyo_app_green'

@description('The application\'s database (APP_DB_DATABASE). Empty: DATABASE_URL\'s database.')
param appDbDatabase string = ''

@minValue(0)
@maxValue(604800)
@description('How long the previous application credential keeps working after a rotation (ROTATION_GRACE_SECONDS).')
param rotationGraceSeconds int = 900

@description('The application\'s existing uploads account, for the daily files snapshot. Empty: no files snapshot.')
param uploadsAccountName string = ''

@description('Resource group of the uploads account.')
param uploadsResourceGroupName string = resourceGroup().name

param uploadsContainerName string = 'uploads'

param backupContainerName string = 'backups'

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param backupSku string = 'Standard_ZRS'

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param secondaryBackupSku string = 'Standard_LRS'

@minValue(1)
@maxValue(365)
@description('Blob and container soft delete, both backup accounts.')
param softDeleteDays int = 14

@allowed(['unlocked', 'locked'])
@description('Immutability of each backup (BACKUP_IMMUTABILITY_MODE): unlocked policies can still be shortened by an administrator, locked ones never.')
param immutabilityMode string = 'unlocked'

@minValue(1)
param backupRetentionDays int = 30

@description('Every restore waits for a second person (RESTORE_APPROVAL_REQUIRED); HTTP restores into production need one regardless.')
param restoreApprovalRequired bool = true

@description('Client (application) id of the Entra app registration callers sign in to: App Service Authentication is always on, and approvals need its app role approverRole.')
param authClientId string

@description('Entra tenant of that app registration.')
param authTenantId string = tenant().tenantId

@description('The app role (of that registration) a caller needs to approve a restore or a breach restore.')
param approverRole string = 'Floyo.Approver'

@description('Object id of an Entra group of on-call engineers: Key Vault Secrets Officer, and Storage Blob Data Reader on both backup containers. Empty: none.')
param operatorPrincipalId string = ''

@description('Subscribe the app\'s webhook to Key Vault\'s secret near-expiry and expired events. Event Grid validates the endpoint at once, so turn this on in a second deployment, after the app\'s code is published.')
param enableKeyVaultEvents bool = false

@description('Key Vault secret holding the PagerDuty Events v2 routing key (critical alerts). Empty: no paging.')
param notifyPagerDutyRoutingKeySecretName string = ''

@description('Key Vault secret holding the Slack incoming-webhook URL (all alerts). Empty: no Slack.')
param notifySlackWebhookSecretName string = ''

@description('SMTP relay of the app\'s email channel (Azure Communication Services: smtp.azurecomm.net; Office 365: smtp.office365.com). Empty: no email from the app.')
param smtpHost string = ''

@description('SMTP login; its password is the Key Vault secret smtpPasswordSecretName.')
param smtpUser string = ''

@description('Key Vault secret holding the SMTP password. Empty: no login.')
param smtpPasswordSecretName string = ''

@description('Sender of the app\'s email, e.g. Floyo DR <dr@example.com>.')
param smtpFrom string = ''

@description('Email recipients (comma-separated): the team (alerts routed to email, incidents), stakeholders (hourly incident updates), customers (past the 4 h RTO threshold, Bcc).')
param notifyEmailTeam string = ''
param notifyEmailStakeholders string = ''
param notifyEmailCustomers string = ''

@description('Status-page webhook for incidents past 4 h (Atlassian Statuspage: https://api.statuspage.io/v1/pages/<page_id>/incidents) and the Key Vault secret with its Authorization header. Empty: none.')
param incidentStatusPageUrl string = ''
param incidentStatusPageAuthorizationSecretName string = ''

@description('Stakeholder e-mail addresses for Azure Monitor alerts (dead-man\'s switch, failure events, 5xx, /api/health).')
param alertEmails array = []

@secure()
@description('PagerDuty\'s Azure Monitor integration URL for the same alerts. Empty: none.')
param pagerDutyAlertWebhookUrl string = ''

@secure()
@description('A chat webhook taking Azure Monitor\'s common alert schema (a Slack workflow or Logic App). Empty: none.')
param chatAlertWebhookUrl string = ''

@description('Azure Monitor\'s availability test on /api/health. It uses the app\'s host key, which exists once the code runs: turn this on in a second deployment, after the app\'s code is published.')
param enableAvailabilityTest bool = false

@description('Resource id of the Azure Database for PostgreSQL flexible server (/subscriptions/.../Microsoft.DBforPostgreSQL/flexibleServers/<name>). Given: an alert on its storage_percent. Empty: none.')
param postgresServerId string = ''

@description('App settings by name, applied last (any schedule or tuning setting of local.settings.sample.json).')
param settingsOverrides object = {}

param tags object = {}

var token = toLower(uniqueString(resourceGroup().id, name))
var allTags = union({ application: 'floyo-dr' }, empty(environmentName) ? {} : { 'azd-env-name': environmentName }, tags)
var deploymentContainerName = 'app-package'
// azd deploy finds the app it pushes to by this tag (azure.yaml: services.functions). The standby has none.
var serviceTags = { 'azd-service-name': 'functions' }
var isContainer = hosting == 'container'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}-${token}'
  location: location
  tags: allTags
}

// The standby's own identity, in its own region: it keeps working when the primary region does not.
resource standbyIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (standbyEnabled) {
  name: 'id-${name}-${token}-standby'
  location: secondaryLocation
  tags: allTags
}

var writerPrincipals = standbyEnabled ? [identity.properties.principalId, standbyIdentity!.properties.principalId] : [identity.properties.principalId]

module writerRole 'modules/backup-writer-role.bicep' = {
  name: 'backup-writer-role'
  params: {
    roleName: 'Floyo DR backup writer (${resourceGroup().name}/${name})'
  }
}

module registry 'modules/registry.bicep' = if (isContainer) {
  name: 'registry'
  params: {
    name: 'cr${token}'
    location: location
    tags: allTags
    pullPrincipalIds: writerPrincipals
    replicaLocation: standbyEnabled ? secondaryLocation : ''
  }
}

module network 'modules/vnet.bicep' = if (vnetEnabled) {
  name: 'network'
  params: {
    name: 'vnet-${name}-${token}'
    location: location
    tags: allTags
    addressPrefix: vnetAddressPrefix
    hosting: hosting
  }
}

module standbyNetwork 'modules/vnet.bicep' = if (vnetEnabled && standbyEnabled) {
  name: 'network-standby'
  params: {
    name: 'vnet-${name}-${token}-standby'
    location: secondaryLocation
    tags: allTags
    addressPrefix: cidrSubnet(vnetAddressPrefix, 15, 1)
    hosting: hosting
  }
}

module privateDns 'modules/private-dns.bicep' = if (vnetEnabled) {
  name: 'private-dns'
  params: {
    tags: allTags
    vnetIds: standbyEnabled ? [network!.outputs.id, standbyNetwork!.outputs.id] : [network!.outputs.id]
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-${name}-${token}'
    appInsightsName: 'appi-${name}-${token}'
    location: location
    tags: allTags
  }
}

module telemetryAccess 'modules/telemetry-access.bicep' = {
  name: 'telemetry-access'
  params: {
    appInsightsName: monitoring.outputs.appInsightsName
    principalId: identity.properties.principalId
  }
}

module hostStorage 'modules/host-storage.bicep' = {
  name: 'host-storage'
  params: {
    name: 'sth${token}'
    location: location
    tags: allTags
    deploymentContainerName: deploymentContainerName
    principalId: identity.properties.principalId
  }
}

module backups 'modules/backup-storage.bicep' = {
  name: 'backup-storage'
  params: {
    name: 'stb${token}'
    location: location
    tags: allTags
    containerName: backupContainerName
    sku: backupSku
    softDeleteDays: softDeleteDays
    writerPrincipalIds: [identity.properties.principalId]
    writerRoleGuid: writerRole.outputs.guid
    readerPrincipalId: operatorPrincipalId
    lockEnabled: locksEnabled
    privateOnly: vnetEnabled
  }
}

module secondaryBackups 'modules/backup-storage.bicep' = {
  name: 'backup-storage-secondary'
  params: {
    name: 'sts${token}'
    location: secondaryLocation
    tags: allTags
    containerName: backupContainerName
    sku: secondaryBackupSku
    softDeleteDays: softDeleteDays
    // The standby's store is this copy.
    writerPrincipalIds: writerPrincipals
    writerRoleGuid: writerRole.outputs.guid
    readerPrincipalId: operatorPrincipalId
    lockEnabled: locksEnabled
    privateOnly: vnetEnabled
  }
}

module uploads 'modules/uploads-access.bicep' = if (!empty(uploadsAccountName)) {
  name: 'uploads-access'
  scope: resourceGroup(uploadsResourceGroupName)
  params: {
    accountName: uploadsAccountName
    containerName: uploadsContainerName
    principalId: identity.properties.principalId
  }
}

module vault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: 'kv-${token}'
    location: location
    tags: allTags
    appPrincipalId: identity.properties.principalId
    operatorPrincipalId: operatorPrincipalId
    databasePasswordSecretName: databasePasswordSecretName
    databasePassword: databasePassword
    lockEnabled: locksEnabled
    privateOnly: vnetEnabled
  }
}

// Private endpoints in the primary VNet: Blob of both backup accounts (a private endpoint may reach another
// region) and the vault.
var primaryEndpoints = [
  { name: 'backups', group: 'blob' }
  { name: 'backups-secondary', group: 'blob' }
  { name: 'vault', group: 'vault' }
]

module endpoints 'modules/private-endpoint.bicep' = [
  for e in primaryEndpoints: if (vnetEnabled) {
    name: 'pe-${e.name}'
    params: {
      name: 'pe-${name}-${token}-${e.name}'
      location: location
      tags: allTags
      targetId: e.name == 'backups' ? backups.outputs.id : e.name == 'vault' ? vault.outputs.id : secondaryBackups.outputs.id
      groupId: e.group
      subnetId: network!.outputs.endpointSubnetId
      dnsZoneId: e.group == 'blob' ? privateDns!.outputs.blobZoneId : privateDns!.outputs.vaultZoneId
    }
  }
]

module schedules 'modules/schedule-settings.bicep' = {
  name: 'schedules'
}

// Everything floyo-dr reads in Azure (local.settings.sample.json explains each). Not set, because they are
// local only: BACKUP_DIR, BACKUP_SECONDARY_DIR and FLOYO_SECRETS_FILE (filesystem stores), the *_CONNECTION_STRING
// settings (Azurite; Azure uses the identity), FLOYO_LOG_LEVEL (floyo-dr), and FUNCTIONS_WORKER_RUNTIME and
// AzureWebJobsStorage (set by modules/function-app.bicep per hosting; host storage is identity-based).
var floyoSettings = {
  DATABASE_URL: databaseUrl
  VERIFY_DATABASE_URL: verifyDatabaseUrl
  // The image installs the client tools where the PostgreSQL project's Debian packages put them.
  PG_BIN_DIR: isContainer ? '/usr/lib/postgresql/${pgMajor}/bin' : pgBinDir
  RESTORE_JOBS: '2'
  FLOYO_WORK_DIR: ''
  BACKUP_STORE: 'blob'
  BACKUP_RETENTION_DAYS: string(backupRetentionDays)
  BACKUP_INCREMENTAL_RETENTION_DAYS: '7'
  BACKUP_COMPRESSION: 'true'
  BACKUP_COMPRESSION_LEVEL: '2'
  BACKUP_LOCK_WAIT_SECONDS: '0'
  INCREMENTAL_ARCHIVE_WAIT_SECONDS: '120'
  WAL_RECEIVE_SLOT: walReceiveSlot
  WAL_SLOT_MAX_RETAINED_MB: '1024'
  WAL_ARCHIVE_STALL_MARGIN_SECONDS: '60'
  WAL_COPY_MAX_LAG_MINUTES: '420'
  WAL_COPY_VERIFY_SAMPLE: '8'
  RESTORE_APPROVAL_REQUIRED: restoreApprovalRequired ? 'true' : 'false'
  RESTORE_APPROVAL_TIMEOUT: '01:00:00'
  // Identity comes from App Service Authentication only (modules/function-app.bicep); a declared name never counts.
  ALLOW_DECLARED_OPERATOR: 'false'
  APPROVER_ROLE: approverRole
  APP_DB_ROLES: ''
  RPO_TARGET: '01:00:00'
  RPO_MAX: '1.00:00:00'
  RTO_TARGET: '04:00:00'
  RTO_MAX: '1.00:00:00'
  STAGING_DATABASE_URL: empty(stagingDatabaseUrlSecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.outputs.name};SecretName=${stagingDatabaseUrlSecretName})'
  DRILL_APP_LOGIN: ''
  ANOMALY_ROW_DROP_RATIO: '0.5'
  ANOMALY_MIN_ROWS: '100'
  ANOMALY_SIZE_DROP_RATIO: '0.5'
  BACKUP_BLOB_SERVICE_URI: backups.outputs.blobEndpoint
  BACKUP_BLOB_CONTAINER: backups.outputs.containerName
  BACKUP_IMMUTABILITY_MODE: immutabilityMode
  BACKUP_BLOB_BLOCK_SIZE_MB: '8'
  BACKUP_BLOB_UPLOAD_PARALLELISM: '4'
  BACKUP_BLOB_INDEX_TAGS: 'true'
  BACKUP_SECONDARY_STORE: 'blob'
  BACKUP_SECONDARY_BLOB_SERVICE_URI: secondaryBackups.outputs.blobEndpoint
  BACKUP_SECONDARY_BLOB_CONTAINER: secondaryBackups.outputs.containerName
  BACKUP_SECONDARY_IMMUTABILITY_MODE: immutabilityMode
  UPLOADS_BLOB_SERVICE_URI: empty(uploadsAccountName) ? '' : 'https://${uploadsAccountName}.blob.${environment().suffixes.storage}/'
  UPLOADS_CONTAINER: uploadsContainerName
  FILES_RETENTION_DAYS: '90'
  FILES_PARALLELISM: '4'
  CONFIG_RETENTION_DAYS: '90'
  CONFIG_HOST_JSON: ''
  SECRET_STORE: 'keyvault'
  KEY_VAULT_URI: vault.outputs.uri
  DATABASE_PASSWORD_SECRET: databasePasswordSecretName
  VERIFY_DATABASE_PASSWORD_SECRET: verifyDatabasePasswordSecretName
  APP_DB_SECRET: appDbSecretName
  APP_DB_GROUP_ROLE: appDbGroupRole
  APP_DB_BLUE_ROLE: appDbBlueRole
  APP_DB_GREEN_ROLE: appDbGreenRole
  APP_DB_DATABASE: appDbDatabase
  ROTATION_GRACE_SECONDS: string(rotationGraceSeconds)
  BREACH_ISOLATE: 'true'
  BREACH_ISOLATE_ROLES: ''
  BREACH_ISOLATE_PUBLIC: 'true'
  BREACH_ROTATION_GRACE_SECONDS: '0'
  BREACH_APPROVAL_TIMEOUT: '04:00:00'
  BREACH_REMINDER_INTERVAL: '12:00:00'
  NOTIFY_PAGERDUTY_URL: empty(notifyPagerDutyRoutingKeySecretName) ? '' : 'https://events.pagerduty.com/v2/enqueue'
  NOTIFY_PAGERDUTY_ROUTING_KEY: empty(notifyPagerDutyRoutingKeySecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.outputs.name};SecretName=${notifyPagerDutyRoutingKeySecretName})'
  NOTIFY_SLACK_WEBHOOK_URL: empty(notifySlackWebhookSecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.outputs.name};SecretName=${notifySlackWebhookSecretName})'
  NOTIFY_TIMEOUT_SECONDS: '10'
  // Severity routing: empty is the default (critical: pagerduty,slack,email; warning, info: slack).
  NOTIFY_ROUTE_CRITICAL: ''
  NOTIFY_ROUTE_WARNING: ''
  NOTIFY_ROUTE_INFO: ''
  SMTP_HOST: smtpHost
  SMTP_PORT: '587'
  SMTP_SECURITY: 'starttls'
  SMTP_USER: smtpUser
  SMTP_PASSWORD: empty(smtpPasswordSecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.outputs.name};SecretName=${smtpPasswordSecretName})'
  SMTP_FROM: smtpFrom
  SMTP_TIMEOUT_SECONDS: '30'
  NOTIFY_EMAIL_TEAM: notifyEmailTeam
  NOTIFY_EMAIL_STAKEHOLDERS: notifyEmailStakeholders
  NOTIFY_EMAIL_CUSTOMERS: notifyEmailCustomers
  // The plan's communication rules (IncidentCommunicationOrchestrator).
  INCIDENT_FIRST_UPDATE_AFTER: '00:45:00'
  INCIDENT_UPDATE_INTERVAL: '01:00:00'
  INCIDENT_CUSTOMER_THRESHOLD: '04:00:00'
  INCIDENT_PUBLIC_REPORT_THRESHOLD: '1.00:00:00'
  // The deployed app's drills (timers, HTTP) are production's: a failed one is an incident.
  INCIDENT_ON_DRILL_FAILURE: 'true'
  INCIDENT_STATUSPAGE_URL: incidentStatusPageUrl
  INCIDENT_STATUSPAGE_AUTHORIZATION: empty(incidentStatusPageAuthorizationSecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.outputs.name};SecretName=${incidentStatusPageAuthorizationSecretName})'
  TIMERS_ENABLED: 'true'
  // Health checks (ChecksTimer, SCHEDULE_CHECKS): thresholds as local.settings.sample.json explains them.
  CHECK_BACKUP_MAX_AGE: '1.02:00:00'
  CHECK_REPLICATION_LAG_MAX: '00:05:00'
  CHECK_EXPECTED_STANDBYS: '0'
  CHECK_SLOT_RETAINED_MAX_BYTES: '1073741824'
  // On Azure Database for PostgreSQL the storage_percent alert (postgresServerId) watches the server's disk.
  DATABASE_CAPACITY_GB: ''
  CHECK_DISK_WARNING_PERCENT: '80'
  CHECK_DISK_CRITICAL_PERCENT: '90'
  CHECK_ERROR_WINDOW: '1.00:00:00'
  CHECK_ERROR_BASELINE: '7.00:00:00'
  CHECK_ERROR_MIN_FAILURES: '3'
  CHECK_ERROR_FACTOR: '2'
}

var scheduleSettings = toObject(schedules.outputs.appSettings, s => s.name, s => s.value)

module app 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: 'func-${name}-${token}'
    planName: 'plan-${name}-${token}'
    location: location
    tags: allTags
    hosting: hosting
    containerImage: containerImage
    registryLoginServer: isContainer ? registry!.outputs.loginServer : ''
    identityId: identity.id
    identityClientId: identity.properties.clientId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    appSettings: union(floyoSettings, scheduleSettings, settingsOverrides)
    subnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
    authClientId: authClientId
    authTenantId: authTenantId
    siteTags: serviceTags
  }
  // Application Insights refuses telemetry until the identity may publish.
  dependsOn: [telemetryAccess]
}

var standbyVaultName = 'kvs-${token}'
var standbyKeyVaultRef = '@Microsoft.KeyVault(VaultName=${standbyVaultName};SecretName='

// The standby: the same settings, its store the second copy (no further copy from there), its own vault, timers off.
var standbySettings = union(floyoSettings, scheduleSettings, settingsOverrides, {
  BACKUP_BLOB_SERVICE_URI: secondaryBackups.outputs.blobEndpoint
  BACKUP_BLOB_CONTAINER: secondaryBackups.outputs.containerName
  BACKUP_SECONDARY_STORE: 'none'
  BACKUP_SECONDARY_BLOB_SERVICE_URI: ''
  BACKUP_SECONDARY_BLOB_CONTAINER: ''
  STAGING_DATABASE_URL: empty(stagingDatabaseUrlSecretName) ? '' : '${standbyKeyVaultRef}${stagingDatabaseUrlSecretName})'
  NOTIFY_PAGERDUTY_ROUTING_KEY: empty(notifyPagerDutyRoutingKeySecretName) ? '' : '${standbyKeyVaultRef}${notifyPagerDutyRoutingKeySecretName})'
  NOTIFY_SLACK_WEBHOOK_URL: empty(notifySlackWebhookSecretName) ? '' : '${standbyKeyVaultRef}${notifySlackWebhookSecretName})'
  SMTP_PASSWORD: empty(smtpPasswordSecretName) ? '' : '${standbyKeyVaultRef}${smtpPasswordSecretName})'
  INCIDENT_STATUSPAGE_AUTHORIZATION: empty(incidentStatusPageAuthorizationSecretName) ? '' : '${standbyKeyVaultRef}${incidentStatusPageAuthorizationSecretName})'
  TIMERS_ENABLED: 'false'
})

module standby 'modules/standby.bicep' = if (standbyEnabled) {
  name: 'standby'
  params: {
    name: name
    token: token
    location: secondaryLocation
    tags: allTags
    hosting: hosting
    containerImage: containerImage
    registryLoginServer: isContainer ? registry!.outputs.loginServer : ''
    identityId: standbyIdentity.id
    identityClientId: standbyIdentity!.properties.clientId
    identityPrincipalId: standbyIdentity!.properties.principalId
    appSettings: standbySettings
    subnetId: vnetEnabled ? standbyNetwork!.outputs.appSubnetId : ''
    authClientId: authClientId
    authTenantId: authTenantId
    operatorPrincipalId: operatorPrincipalId
    databasePasswordSecretName: databasePasswordSecretName
    databasePassword: databasePassword
    vaultName: standbyVaultName
    lockEnabled: locksEnabled
    privateOnly: vnetEnabled
  }
}

// The standby's private endpoints, in its own VNet: the second copy's Blob and its vault.
module standbyEndpoints 'modules/private-endpoint.bicep' = [
  for e in [
    { name: 'backups-secondary', group: 'blob' }
    { name: 'vault', group: 'vault' }
  ]: if (vnetEnabled && standbyEnabled) {
    name: 'pe-standby-${e.name}'
    params: {
      name: 'pe-${name}-${token}-standby-${e.name}'
      location: secondaryLocation
      tags: allTags
      targetId: e.group == 'blob' ? secondaryBackups.outputs.id : standby!.outputs.keyVaultId
      groupId: e.group
      subnetId: standbyNetwork!.outputs.endpointSubnetId
      dnsZoneId: e.group == 'blob' ? privateDns!.outputs.blobZoneId : privateDns!.outputs.vaultZoneId
    }
  }
]

module keyVaultEvents 'modules/keyvault-events.bicep' = if (enableKeyVaultEvents) {
  name: 'keyvault-events'
  params: {
    vaultName: vault.outputs.name
    location: location
    tags: allTags
    functionAppName: app.outputs.name
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    name: '${name}-${token}'
    location: location
    tags: allTags
    workspaceId: monitoring.outputs.workspaceId
    appInsightsName: monitoring.outputs.appInsightsName
    functionAppName: app.outputs.name
    keyVaultName: vault.outputs.name
    backupAccountNames: [backups.outputs.name, secondaryBackups.outputs.name]
    alertEmails: alertEmails
    pagerDutyAlertWebhookUrl: pagerDutyAlertWebhookUrl
    chatAlertWebhookUrl: chatAlertWebhookUrl
    enableAvailabilityTest: enableAvailabilityTest
    postgresServerId: postgresServerId
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  params: {
    name: '${name}-${token}'
    location: location
    tags: allTags
    workspaceId: monitoring.outputs.workspaceId
  }
}

output functionAppName string = app.outputs.name
output hosting string = hosting
// azd pushes the image here (docker.remoteBuild builds it in the registry: no local Docker needed).
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = isContainer ? registry!.outputs.loginServer : ''
output standbyFunctionAppName string = standbyEnabled ? standby!.outputs.appName : ''
output standbyKeyVaultUri string = standbyEnabled ? standby!.outputs.keyVaultUri : ''
output functionAppUrl string = 'https://${app.outputs.defaultHostName}'
output keyVaultUri string = vault.outputs.uri
output backupAccountName string = backups.outputs.name
output secondaryBackupAccountName string = secondaryBackups.outputs.name
output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
output keyVaultEventsTopic string = enableKeyVaultEvents ? keyVaultEvents!.outputs.topicName : ''
