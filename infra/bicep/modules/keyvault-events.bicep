// Key Vault's secret events through an Event Grid system topic to the app's webhook
// (POST /api/events/keyvault, the KeyVaultEvents function): near expiry and expired secrets start the
// credential rotation. Event Grid validates the endpoint when the subscription is created, so deploy this
// only once the app's code is published (main.bicep: enableKeyVaultEvents). The webhook URL carries a key of
// the KeyVaultEvents function alone (a function key opens only its function), read at deployment time and
// never output: never the host's default or master key, which would also open restore, breach and approve.

param vaultName string
param location string
param tags object
param functionAppName string

@description('The webhook\'s route under /api (KeyVaultEventsFunction.Route).')
param route string = 'events/keyvault'

@description('The webhook function\'s name ([Function] of KeyVaultEventsFunction).')
param functionName string = 'KeyVaultEvents'

@description('The name of the webhook\'s own function key.')
param keyName string = 'eventgrid'

@description('Its value: new on every deployment unless given, so redeploying rotates it (with the subscription\'s URL).')
@secure()
param keyValue string = newGuid()

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource webhook 'Microsoft.Web/sites/functions@2024-04-01' existing = {
  parent: site
  name: functionName
}

// A key of this function only.
resource webhookKey 'Microsoft.Web/sites/functions/keys@2024-04-01' = {
  parent: webhook
  name: keyName
  value: keyValue
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
  // The key must exist before its value is read into the URL.
  dependsOn: [webhookKey]
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/api/${route}?code=${webhook.listKeys()[keyName]}'
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
