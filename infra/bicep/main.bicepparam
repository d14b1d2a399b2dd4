// An example deployment: copy, adjust, and deploy with
//   az deployment group create -g <resource-group> -f infra/bicep/main.bicep -p infra/bicep/main.bicepparam
// Secrets (databasePassword) are passed on the command line or left empty and set with az keyvault secret set.
using 'main.bicep'

param name = 'floyodr'
param secondaryLocation = 'northeurope'
param databaseUrl = 'postgresql://floyo_admin@floyo-pg.postgres.database.azure.com:5432/floyo?sslmode=require'
// The repository's image (Dockerfile) on Elastic Premium: pg_dump/pg_restore/pg_basebackup of pgMajor inside.
param hosting = 'container'
param pgMajor = 17
param vnetEnabled = false
param standbyEnabled = false
param uploadsAccountName = ''
param operatorPrincipalId = ''
param restoreApprovalRequired = true
// The Entra app registration operators sign in to (App Service Authentication); give approvers its Floyo.Approver app role.
param authClientId = '00000000-0000-0000-0000-000000000000'
param enableKeyVaultEvents = false
