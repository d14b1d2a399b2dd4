// The app's role on the backup containers, instead of Storage Blob Data Owner: exactly the operations floyo-dr's
// Blob store performs (src/Floyo.Recovery/Storage/Blob), nothing that could erase a backup.
//
// Granted, and what needs it (Azure's permission table for Blob data operations):
//   containers/read                  Get Container Properties (is version-level immutability on?)
//   containers/write                 Set Blob Legal Hold (breach recovery), Create Container if it is missing
//   blobs/read                       Get Blob, Get Blob Properties, List Blobs
//   blobs/write, blobs/add/action    Put Blob, Put Block, Put Block List, Lease Blob (the per-database lock)
//   blobs/tags/read, tags/write      index tags written with each backup, read back when listing
//   blobs/delete                     retention cleanup of expired backups. With versioning on, this only turns the
//                                    current version into a previous one; erasing that needs deleteBlobVersion.
//   blobs/immutableStorage/runAsSuperUser/action
//                                    Set Blob Immutability Policy. Azure authorizes Delete Blob Immutability Policy
//                                    with the same action, so an unlocked policy can be removed by this identity:
//                                    hence check-immutability's finding for unlocked policies in production, and
//                                    BACKUP_IMMUTABILITY_MODE=locked, which the service itself never lets anyone
//                                    shorten or remove.
// Never granted: blobs/deleteBlobVersion/action and blobs/permanentDelete/action (erasing versions),
// containers/delete, blobs/move/action, blobs/runAsSuperUser/action, blobs/modifyPermissions and
// manageOwnership, setAcl, blobServices/write (versioning and soft delete settings) and any key or SAS action.

targetScope = 'resourceGroup'

@description('Role name, unique in the tenant.')
param roleName string

var actions = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/read'
  'Microsoft.Storage/storageAccounts/blobServices/containers/write'
]

var dataActions = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/read'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/immutableStorage/runAsSuperUser/action'
]

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, roleName)
  properties: {
    roleName: roleName
    description: 'Floyo DR: write, read, list, tag, protect (immutability policy, legal hold) and expire backups; never erase a blob version.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: actions
        notActions: []
        dataActions: dataActions
        notDataActions: []
      }
    ]
  }
}

output id string = role.id
output guid string = role.name
