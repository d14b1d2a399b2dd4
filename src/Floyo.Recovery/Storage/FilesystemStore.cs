using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floyo.Recovery.Storage;

/// <summary>
/// The local default store (BACKUP_DIR). Objects are written under <c>.partial/</c>, fsynced, renamed
/// into place (so a reader sees all of an object or nothing) and made read-only. Legal holds are marker
/// files under <c>.holds/</c>; locks are flock()ed files under <c>.locks/</c>.
/// </summary>
public sealed partial class FilesystemStore(string directory) : IBackupStore
{
    private const UnixFileMode ReadOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public string Root { get; } = Path.GetFullPath(directory);

    public string Location => Root;

    private string PartialDir => Path.Combine(Root, ".partial");

    public Task<IObjectWriter> CreateAsync(string name, ObjectRetention retention, CancellationToken ct)
    {
        var final = PathOf(name);
        if (File.Exists(final))
        {
            throw new RecoveryException($"'{name}' already exists in {Root}; backups are never overwritten");
        }
        try
        {
            Directory.CreateDirectory(PartialDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecoveryException($"cannot write to BACKUP_DIR {Root}: {e.Message}", e);
        }
        RemoveAbandonedPartials();
        var temp = Path.Combine(PartialDir, $"{Environment.ProcessId}.{Guid.NewGuid():N}.part");
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        return Task.FromResult<IObjectWriter>(new Writer(this, name, temp, final, stream));
    }

    public async Task WriteAllAsync(string name, ReadOnlyMemory<byte> content, ObjectRetention retention, CancellationToken ct)
    {
        await using var writer = await CreateAsync(name, retention, ct);
        await writer.Stream.WriteAsync(content, ct);
        await writer.CommitAsync(ct);
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken ct)
    {
        var path = PathOf(name);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(name);
        }
    }

    public Task<StoredObject?> GetAsync(string name, CancellationToken ct)
    {
        var info = new FileInfo(PathOf(name));
        return Task.FromResult(info.Exists ? Describe(name, info) : null);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Yield();
        if (!Directory.Exists(Root))
        {
            yield break;
        }
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden, IgnoreInaccessible = true };
        foreach (var file in new DirectoryInfo(Root).EnumerateFiles("*", options))
        {
            ct.ThrowIfCancellationRequested();
            var name = Path.GetRelativePath(Root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal) && !name.Split('/').Any(s => s.StartsWith('.')))
            {
                yield return Describe(name, file);
            }
        }
    }

    public Task DeleteAsync(string name, CancellationToken ct)
    {
        var path = PathOf(name);
        if (File.Exists(HoldPath(name)))
        {
            throw new ObjectProtectedException(name, "legal hold");
        }
        if (!File.Exists(path))
        {
            throw new ObjectNotFoundException(name);
        }
        File.Delete(path);
        return Task.CompletedTask;
    }

    public Task SetLegalHoldAsync(string name, bool hold, CancellationToken ct)
    {
        if (!File.Exists(PathOf(name)))
        {
            throw new ObjectNotFoundException(name);
        }
        var marker = HoldPath(name);
        if (hold)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            File.WriteAllText(marker, DateTimeOffset.UtcNow.ToString("O"));
        }
        else
        {
            File.Delete(marker);
        }
        return Task.CompletedTask;
    }

    public async Task<IAsyncDisposable> LockAsync(string key, TimeSpan wait, CancellationToken ct)
    {
        var dir = Path.Combine(Root, ".locks");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Uri.EscapeDataString(key) + ".lock");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock(): released by the kernel if this process dies.
                var handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return handle;
            }
            catch (IOException) when (deadline.Elapsed < wait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
            }
            catch (IOException)
            {
                throw new RecoveryException($"another floyo-dr run holds the lock '{key}' in {Root}; try again when it has finished");
            }
        }
    }

    private string PathOf(string name) => Path.Combine(Root, ObjectName.Check(name).Replace('/', Path.DirectorySeparatorChar));

    private string HoldPath(string name) => Path.Combine(Root, ".holds", ObjectName.Check(name).Replace('/', Path.DirectorySeparatorChar));

    private StoredObject Describe(string name, FileInfo info) =>
        new(name, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), File.Exists(HoldPath(name)), null);

    /// <summary>Partials left by a process that died (killed, power loss) are removed; live writers' are kept.</summary>
    private void RemoveAbandonedPartials()
    {
        foreach (var file in Directory.EnumerateFiles(PartialDir, "*.part"))
        {
            var pid = Path.GetFileName(file).Split('.')[0];
            if (int.TryParse(pid, out var id) && !IsAlive(id))
            {
                TryDelete(file);
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover partial is hidden and never listed.
        }
    }

    private static void SyncDirectory(string path)
    {
        var fd = Open(path, 0 /* O_RDONLY */);
        if (fd >= 0)
        {
            _ = Fsync(fd);
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private sealed class Writer(FilesystemStore store, string name, string temp, string final, FileStream stream) : IObjectWriter
    {
        private bool _committed;

        public Stream Stream => stream;

        public async Task CommitAsync(CancellationToken ct)
        {
            await stream.FlushAsync(ct);
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync();
            File.SetUnixFileMode(temp, ReadOnly);
            var parent = Path.GetDirectoryName(final)!;
            Directory.CreateDirectory(parent);
            try
            {
                File.Move(temp, final, overwrite: false);
            }
            catch (IOException) when (File.Exists(final))
            {
                throw new RecoveryException($"'{name}' already exists in {store.Root}; backups are never overwritten");
            }
            SyncDirectory(parent);
            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_committed)
            {
                try
                {
                    await stream.DisposeAsync();
                }
                catch (IOException)
                {
                    // A full disk fails the final flush too; the partial is removed either way.
                }
                TryDelete(temp);
            }
        }
    }
}
