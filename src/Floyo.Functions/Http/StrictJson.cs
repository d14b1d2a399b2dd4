using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Floyo.Functions.Http;

/// <summary>
/// Reads a small JSON object and refuses anything it was not asked for: malformed JSON, other types,
/// unknown, repeated or missing fields. Each refusal is one line that names the field.
/// </summary>
public sealed class StrictJson
{
    private const int MaxBytes = 16 * 1024;

    private readonly Dictionary<string, JsonElement> _fields;

    private StrictJson(Dictionary<string, JsonElement> fields) => _fields = fields;

    public static async Task<(StrictJson? Body, string? Error)> ReadAsync(HttpRequest request, IReadOnlyCollection<string> allowed, bool emptyAllowed, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                return (null, $"the request body is larger than {MaxBytes} bytes");
            }
        }
        if (buffer.Length == 0 || Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).Trim().Length == 0)
        {
            return emptyAllowed ? (new StrictJson([]), null) : (null, $"the request body is empty: send a JSON object with {string.Join(", ", allowed)}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            return (null, $"the request body is not valid JSON: {e.Message.Split('.')[0]}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, $"the request body must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!allowed.Contains(property.Name))
                {
                    return (null, $"unknown field '{Clip(property.Name)}': the fields are {string.Join(", ", allowed)}");
                }
                if (!fields.TryAdd(property.Name, property.Value.Clone()))
                {
                    return (null, $"field '{property.Name}' is given twice");
                }
            }
            return (new StrictJson(fields), null);
        }
    }

    /// <summary>A required (or optional) string; null with an error when missing or of another type.</summary>
    public string? String(string name, bool required, out string? error)
    {
        error = null;
        if (!_fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            error = required ? $"missing field '{name}'" : null;
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            error = $"field '{name}' must be a string";
            return null;
        }
        return value.GetString();
    }

    public bool? Boolean(string name, out string? error)
    {
        error = null;
        if (!_fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = $"field '{name}' must be true or false";
            return null;
        }
        return value.GetBoolean();
    }

    private static string Clip(string text) => text.Length > 40 ? text[..40] + "…" : text;
}
