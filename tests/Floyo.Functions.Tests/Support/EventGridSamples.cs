namespace Floyo.Functions.Tests.Support;

/// <summary>
/// Event Grid deliveries as published in Azure's documentation (event-schema-key-vault, webhook-event-delivery),
/// quirks included: the Key Vault sample has a key <c>"ObjectName "</c> with a trailing space, a version with a
/// leading space, and NBF/EXP as strings although the schema says numbers. The Key Vault ones are templates:
/// vault, secret, version and event type are substituted into the published text.
/// </summary>
public static class EventGridSamples
{
    public const string ValidationCode = "512d38b6-c7b8-40c8-89fe-f46f9e9622b6";

    public const string SubscriptionValidation = """
        [
          {
            "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
            "topic": "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "subject": "",
            "data": {
              "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
              "validationUrl": "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/estest/validate?id=512d38b6-c7b8-40c8-89fe-f46f9e9622b6&t=2018-04-26T20:30:54.4538837Z&apiVersion=2018-05-01-preview&token=1A1A1A1A"
            },
            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": "2018-01-25T22:12:19.4556811Z",
            "metadataVersion": "1",
            "dataVersion": "1"
          }
        ]
        """;

    private const string KeyVaultEventGridSchema = """
        [
           {
              "id":"00eccf70-95a7-4e7c-8299-2eb17ee9ad64",
              "topic":"/subscriptions/{subscription-id}/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/sample-kv",
              "subject":"newsecret",
              "eventType":"Microsoft.KeyVault.SecretNewVersionCreated",
              "eventTime":"2019-07-25T01:08:33.1036736Z",
              "data":{
                 "Id":"https://sample-kv.vault.azure.net/secrets/newsecret/ee059b2bb5bc48398a53b168c6cdcb10",
                 "VaultName":"sample-kv",
                 "ObjectType":"Secret",
                 "ObjectName ":"newsecret",
                 "Version":" ee059b2bb5bc48398a53b168c6cdcb10",
                 "NBF":"1559081980",
                 "EXP":"1559082102"
              },
              "dataVersion":"1",
              "metadataVersion":"1"
           }
        ]
        """;

    private const string KeyVaultCloudEventsSchema = """
        [
           {
              "id":"00eccf70-95a7-4e7c-8299-2eb17ee9ad64",
              "source":"/subscriptions/{subscription-id}/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/sample-kv",
              "subject":"newsecret",
              "type":"Microsoft.KeyVault.SecretNewVersionCreated",
              "time":"2019-07-25T01:08:33.1036736Z",
              "data":{
                 "Id":"https://sample-kv.vault.azure.net/secrets/newsecret/ee059b2bb5bc48398a53b168c6cdcb10",
                 "VaultName":"sample-kv",
                 "ObjectType":"Secret",
                 "ObjectName ":"newsecret",
                 "Version":" ee059b2bb5bc48398a53b168c6cdcb10",
                 "NBF":"1559081980",
                 "EXP":"1559082102"
              },
              "specversion":"1.0"
           }
        ]
        """;

    /// <summary>The published Key Vault event with this vault, secret, version and type (Event Grid schema, or CloudEvents).</summary>
    public static string KeyVault(string type, string vault, string secret, string version, bool cloudEvents = false) =>
        (cloudEvents ? KeyVaultCloudEventsSchema : KeyVaultEventGridSchema)
            .Replace("Microsoft.KeyVault.SecretNewVersionCreated", type, StringComparison.Ordinal)
            .Replace("sample-kv", vault, StringComparison.Ordinal)
            .Replace("newsecret", secret, StringComparison.Ordinal)
            .Replace("ee059b2bb5bc48398a53b168c6cdcb10", version, StringComparison.Ordinal);

    /// <summary>The published sample as is: a new version of "newsecret" in "sample-kv".</summary>
    public static string NewVersionCreated => KeyVaultEventGridSchema;
}
