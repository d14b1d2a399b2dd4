using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Floyo.Recovery.Backups;

namespace Floyo.Recovery.Storage;

/// <summary>One small JSON record read from a store: a value, or why it is not one.</summary>
public sealed record StoredRecord<T>(T? Value, string? Problem) where T : class
{
    /// <summary>Gone between listing and reading (retention ran): neither a value nor a finding.</summary>
    public bool Missing => Value is null && Problem is null;
}

/// <summary>
/// Reads records (verifications, acceptances, copy records, drill reports) where one damaged file is an
/// answer about that file, not an exception that takes every listing down with it. Faults of the store
/// itself (unreachable, I/O) still throw: they are not a property of one record.
/// </summary>
public static class StoredJson
{
    /// <summary>
    /// A record the caller must have to go on safely (a gate or isolation record, an evidence manifest): null
    /// when absent; a damaged one stops the caller with one line naming the file, never a raw JSON error.
    /// </summary>
    public static async Task<T?> ReadRequiredAsync<T>(IBackupStore store, string name, string remedy, CancellationToken ct) where T : class
    {
        var record = await ReadAsync<T>(store, name, ct);
        return record.Problem is { } problem
            ? throw new IntegrityException($"{name} in {store.Location} {problem}: {remedy}")
            : record.Value;
    }

    public static Task<StoredRecord<T>> ReadAsync<T>(IBackupStore store, string name, CancellationToken ct) where T : class =>
        ReadAsync(store, name, (stream, token) => JsonSerializer.DeserializeAsync<T>(stream, Json.Options, token), ct);

    /// <summary>The same, with source-generated metadata: no reflection at start, for records read once per short-lived process.</summary>
    public static Task<StoredRecord<T>> ReadAsync<T>(IBackupStore store, string name, JsonTypeInfo<T> type, CancellationToken ct) where T : class =>
        ReadAsync(store, name, (stream, token) => JsonSerializer.DeserializeAsync(stream, type, token), ct);

    private static async Task<StoredRecord<T>> ReadAsync<T>(IBackupStore store, string name, Func<Stream, CancellationToken, ValueTask<T?>> deserialize, CancellationToken ct) where T : class
    {
        try
        {
            await using var stream = await store.OpenReadAsync(name, ct);
            return await deserialize(stream, ct) is { } value
                ? new(value, null)
                : new(null, "is empty (null)");
        }
        catch (ObjectNotFoundException)
        {
            return new(null, null);
        }
        catch (JsonException e)
        {
            return new(null, $"is not readable JSON ({e.Path ?? "$"}, line {(e.LineNumber ?? 0) + 1})");
        }
        catch (NotSupportedException)
        {
            return new(null, "is not readable JSON (unsupported shape)");
        }
        catch (UnauthorizedAccessException)
        {
            return new(null, "cannot be read (permission denied)");
        }
    }
}
