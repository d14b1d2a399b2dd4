// The private DNS zones the private endpoints register in (Blob, Key Vault), linked to every VNet given, so the
// apps resolve the accounts' and vaults' ordinary names to private addresses.

param tags object

@description('Resource ids of the VNets to link.')
param vnetIds array

var zoneNames = [
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink${environment().suffixes.keyvaultDns}'
]

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in zoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (vnetId, i) in vnetIds: {
    name: 'blob-${i}'
    parent: zones[0]
    location: 'global'
    properties: {
      virtualNetwork: {
        id: vnetId
      }
      registrationEnabled: false
    }
  }
]

resource vaultLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (vnetId, i) in vnetIds: {
    name: 'vault-${i}'
    parent: zones[1]
    location: 'global'
    properties: {
      virtualNetwork: {
        id: vnetId
      }
      registrationEnabled: false
    }
  }
]

output blobZoneId string = zones[0].id
output vaultZoneId string = zones[1].id
