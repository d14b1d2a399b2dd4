using System.Globalization;
using System.Text.Json;

namespace Floyo.Functions.Http;

/// <summary>One delivered event, from either Event Grid schema (<c>eventType</c>, <c>topic</c>) or CloudEvents 1.0 (<c>type</c>, <c>source</c>).</summary>
public sealed record GridEvent(string Id, string Type, string? Subject, string? Source, JsonElement Data)
{
    /// <summary>A data field by name, ignoring case and surrounding spaces (published samples carry <c>"ObjectName "</c>).</summary>
    public string? DataString(string name)
    {
        if (Data.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var property in Data.EnumerateObject())
        {
            if (string.Equals(property.Name.Trim(), name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()?.Trim() is { Length: > 0 } text ? text : null,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    _ => null,
                };
            }
        }
        return null;
    }

    /// <summary>A Unix-seconds field (Key Vault's <c>EXP</c>, <c>NBF</c>), given as a number or as a string.</summary>
    public DateTimeOffset? DataUnixTime(string name) =>
        long.TryParse(DataString(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}

/// <summary>
/// Reads an Event Grid webhook delivery: a JSON array of events (Event Grid schema, or a CloudEvents batch), or
/// one CloudEvent object (structured mode). Unknown fields are ignored, as Event Grid asks of its handlers; what
/// an event cannot do without (an id and a type) makes the whole delivery malformed, answered with 400 so Event
/// Grid does not retry it.
/// </summary>
public static class EventGridEvents
{
    public const string SubscriptionValidation = "Microsoft.EventGrid.SubscriptionValidationEvent";
    public const string SecretNearExpiry = "Microsoft.KeyVault.SecretNearExpiry";
    public const string SecretExpired = "Microsoft.KeyVault.SecretExpired";

    /// <summary>Event Grid delivers at most 1 MB per request.</summary>
    public const int MaxBytes = 1024 * 1024;

    public static (IReadOnlyList<GridEvent>? Events, string? Error) Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return (null, "the request body is empty: Event Grid sends a JSON array of events");
        }
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 32 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            return (null, $"the request body is not valid JSON: {e.Message.Split('.')[0]}");
        }
        using (document)
        {
            var root = document.RootElement;
            var items = root.ValueKind switch
            {
                JsonValueKind.Array => root.EnumerateArray().ToList(),
                JsonValueKind.Object => [root],
                _ => null,
            };
            if (items is null)
            {
                return (null, $"the request body must be a JSON array of events or one CloudEvent, not {root.ValueKind.ToString().ToLowerInvariant()}");
            }
            var events = new List<GridEvent>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                var (parsed, error) = ParseOne(items[i], i);
                if (parsed is null)
                {
                    return (null, error);
                }
                events.Add(parsed);
            }
            return (events, null);
        }
    }

    private static (GridEvent? Event, string? Error) ParseOne(JsonElement item, int index)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (null, $"event {index} is not a JSON object");
        }
        // Event Grid schema names the type eventType; CloudEvents names it type (with specversion beside it).
        var type = Text(item, "eventType") ?? Text(item, "type");
        var id = Text(item, "id");
        if (type is null)
        {
            return (null, $"event {index} has no eventType (Event Grid schema) or type (CloudEvents)");
        }
        if (id is null)
        {
            return (null, $"event {index} ({Clip(type)}) has no id");
        }
        var data = item.TryGetProperty("data", out var d) ? d.Clone() : default;
        return (new GridEvent(id, type, Text(item, "subject"), Text(item, "topic") ?? Text(item, "source"), data), null);
    }

    private static string? Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()?.Trim() is { Length: > 0 } text ? text : null;

    public static string Clip(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
