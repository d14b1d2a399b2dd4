namespace Floyo.Recovery.Storage;

/// <summary>
/// One interface, one driver per backend (filesystem, Blob). Objects are write-once: a writer's bytes
/// become visible under their name only on <see cref="IObjectWriter.CommitAsync"/>, and a committed
/// name is never overwritten. Names are relative, '/'-separated, and checked by <see cref="ObjectName"/>.
/// </summary>
public interface IBackupStore
{
    /// <summary>Where this store keeps its objects, for messages (no credentials).</summary>
    string Location { get; }

    /// <summary>Starts a write-once object. Disposing the writer without committing discards everything.</summary>
    Task<IObjectWriter> CreateAsync(string name, ObjectRetention retention, CancellationToken ct);

    Task WriteAllAsync(string name, ReadOnlyMemory<byte> content, ObjectRetention retention, CancellationToken ct);

    /// <summary>Opens a committed object; throws <see cref="ObjectNotFoundException"/> when absent.</summary>
    Task<Stream> OpenReadAsync(string name, CancellationToken ct);

    Task<StoredObject?> GetAsync(string name, CancellationToken ct);

    /// <summary>Committed objects whose names start with <paramref name="prefix"/>, in no particular order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken ct);

    /// <summary>Deletes a committed object. Throws <see cref="ObjectProtectedException"/> while it is held or retained.</summary>
    Task DeleteAsync(string name, CancellationToken ct);

    Task SetLegalHoldAsync(string name, bool hold, CancellationToken ct);

    /// <summary>Pushes a committed object's retention out (never shortens it). Stores that do not enforce retention ignore this.</summary>
    Task ExtendRetentionAsync(string name, ObjectRetention retention, CancellationToken ct) => Task.CompletedTask;

    /// <summary>An exclusive lock across processes (and, for remote stores, machines) on <paramref name="key"/>.</summary>
    Task<IAsyncDisposable> LockAsync(string key, TimeSpan wait, CancellationToken ct);
}

public interface IObjectWriter : IAsyncDisposable
{
    Stream Stream { get; }

    Task CommitAsync(CancellationToken ct);
}

/// <summary>How long an object must stay undeletable (WORM where the backend enforces it).</summary>
public sealed record ObjectRetention(DateTimeOffset? RetainUntil)
{
    public static readonly ObjectRetention None = new((DateTimeOffset?)null);
}

public sealed record StoredObject(string Name, long Size, DateTimeOffset LastModified, bool LegalHold, DateTimeOffset? RetainUntil)
{
    /// <summary>Index tags where the store keeps them (Blob: database, type, date, kind).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public bool IsProtected(DateTimeOffset now) => LegalHold || RetainUntil > now;
}

public sealed class ObjectNotFoundException(string name) : NotFoundException($"'{name}' is not in the backup store");

public sealed class ObjectProtectedException(string name, string why) : RefusedException($"'{name}' is protected ({why}) and cannot be deleted");
