// App settings for the Functions app's timers. Each timer's schedule is a binding expression
// (%SCHEDULE_...%), and the Functions host refuses to start a timer whose setting is missing, so every
// deployment must supply all of them. Defaults follow the DR plan (six-field NCRONTAB, UTC) and match
// local.settings.sample.json and src/Floyo.Functions/Timers/Schedules.cs (a test keeps the three equal).
// Use: module schedules 'modules/schedule-settings.bicep' = { name: 'schedules' }, then concat
// schedules.outputs.appSettings into the function app's siteConfig.appSettings.

@description('Full backup (dump, checksum, verification, second copy).')
param fullBackup string = '0 0 2 * * *'

@description('Incremental backup (recorded as failed until WAL archiving exists).')
param incrementalBackup string = '0 0 */6 * * *'

@description('Checksum of every stored backup, weekly.')
param checksumVerification string = '0 0 3 * * 0'

@description('Restore test to the staging (verification) server, monthly.')
param restoreTest string = '0 0 4 1 * *'

@description('DR drill, quarterly.')
param drDrill string = '0 0 5 1 1,4,7,10 *'

@description('Retention cleanup, daily.')
param retentionCleanup string = '0 30 4 * * *'

@description('Uploaded-files snapshot, daily.')
param filesSnapshot string = '0 0 1 * * *'

@description('Configuration export, daily.')
param configExport string = '0 15 1 * * *'

@description('Credential rotation (application database login and secrets tagged floyo-rotation=random), monthly; Key Vault near-expiry events also start it.')
param credentialRotation string = '0 0 3 15 * *'

@description('Health checks (backup age, recovery point, replication, disk, error rate) and their incidents.')
param checks string = '0 */15 * * * *'

@description('WAL pull mode: drains WAL_RECEIVE_SLOT into the archive; reports "not configured" without a slot.')
param walReceive string = '0 */5 * * * *'

output appSettings array = [
  { name: 'SCHEDULE_FULL_BACKUP', value: fullBackup }
  { name: 'SCHEDULE_INCREMENTAL_BACKUP', value: incrementalBackup }
  { name: 'SCHEDULE_CHECKSUM_VERIFICATION', value: checksumVerification }
  { name: 'SCHEDULE_RESTORE_TEST', value: restoreTest }
  { name: 'SCHEDULE_DR_DRILL', value: drDrill }
  { name: 'SCHEDULE_RETENTION_CLEANUP', value: retentionCleanup }
  { name: 'SCHEDULE_FILES_SNAPSHOT', value: filesSnapshot }
  { name: 'SCHEDULE_CONFIG_EXPORT', value: configExport }
  { name: 'SCHEDULE_CREDENTIAL_ROTATION', value: credentialRotation }
  { name: 'SCHEDULE_CHECKS', value: checks }
  { name: 'SCHEDULE_WAL_RECEIVE', value: walReceive }
]
