// Key Vault's secret events through an Event Grid system topic to the app's webhook
// (POST /api/events/keyvault, the KeyVaultEvents function): near expiry and expired secrets start the
// credential rotation. Event Grid validates the endpoint when the subscription is created, so deploy this
// only once the app's code is published (main.bicep: enableKeyVaultEvents). The webhook URL carries the
// app's default function key, read at deployment time and never output.

param vaultName string
param location string
param tags object
param functionAppName string

@description('The webhook\'s route under /api (KeyVaultEventsFunction.Route).')
param route string = 'events/keyvault'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${vaultName}-events'
  location: location
  tags: tags
  properties: {
    source: vault.id
    topicType: 'Microsoft.KeyVault.vaults'
  }
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'floyo-dr-secret-expiry'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/api/${route}?code=${listKeys('${site.id}/host/default', '2024-04-01').functionKeys.default}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.KeyVault.SecretNearExpiry'
        'Microsoft.KeyVault.SecretExpired'
      ]
    }
    // Retried for a day: the webhook answers 503 while Key Vault cannot be read, 400 only for malformed deliveries.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output topicName string = topic.name
