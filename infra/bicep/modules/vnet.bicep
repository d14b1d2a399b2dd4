// A virtual network for one region's app (vnetEnabled): a subnet delegated to the app's plan (VNet integration:
// outbound traffic, a PostgreSQL server with private access) and one for private endpoints.

param name string
param location string
param tags object

@description('Address space; the two /24 subnets are its first two.')
param addressPrefix string = '10.60.0.0/16'

@allowed(['container', 'flex'])
@description('The app\'s hosting: Elastic Premium integrates through Microsoft.Web/serverFarms, Flex Consumption through Microsoft.App/environments.')
param hosting string

var delegation = hosting == 'flex' ? 'Microsoft.App/environments' : 'Microsoft.Web/serverFarms'

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          delegations: [
            {
              name: 'app'
              properties: {
                serviceName: delegation
              }
            }
          ]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output id string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output endpointSubnetId string = vnet.properties.subnets[1].id
