using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floyo.Recovery.Storage;

/// <summary>
/// The local default store (BACKUP_DIR). Objects are written under <c>.partial/</c>, fsynced, renamed
/// into place (so a reader sees all of an object or nothing) and made read-only. Legal holds are marker
/// files under <c>.holds/</c>; locks are flock()ed files under <c>.locks/</c>. Backups hold the whole
/// database, so everything written here is the owner's alone whatever the umask: objects 0400, markers
/// and locks 0600, folders created here 0700 (a BACKUP_DIR that already exists keeps its own mode).
/// </summary>
public sealed partial class FilesystemStore(string directory) : IBackupStore
{
    private const UnixFileMode ReadOnly = UnixFileMode.UserRead;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string Root { get; } = Path.GetFullPath(directory);

    public string Location => Root;

    private string PartialDir => Path.Combine(Root, ".partial");

    public Task<IObjectWriter> CreateAsync(string name, ObjectRetention retention, CancellationToken ct)
    {
        var final = PathOf(name);
        if (File.Exists(final))
        {
            throw new RefusedException($"'{name}' already exists in {Root}; backups are never overwritten");
        }
        try
        {
            CreatePrivateDirectory(PartialDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecoveryException($"cannot write to BACKUP_DIR {Root}: {e.Message}", e);
        }
        RemoveAbandonedPartials();
        var temp = Path.Combine(PartialDir, $"{Environment.ProcessId}.{Guid.NewGuid():N}.part");
        var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 20,
            Options = FileOptions.Asynchronous, UnixCreateMode = OwnerReadWrite,
        });
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
            CreatePrivateDirectory(Path.GetDirectoryName(marker)!);
            File.WriteAllText(marker, DateTimeOffset.UtcNow.ToString("O"));
            File.SetUnixFileMode(marker, OwnerReadWrite);
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
        CreatePrivateDirectory(dir);
        var path = Path.Combine(dir, Uri.EscapeDataString(key) + ".lock");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock(): released by the kernel if this process dies.
                var handle = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, UnixCreateMode = OwnerReadWrite,
                });
                return handle;
            }
            catch (IOException) when (deadline.Elapsed < wait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
            }
            catch (IOException)
            {
                throw new UnavailableException($"another floyo-dr run holds the lock '{key}' in {Root}; try again when it has finished");
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

    internal static bool IsAlive(int pid)
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

    /// <summary>Creates a folder and its missing parents owner-only (0700, set explicitly so the umask cannot widen or narrow it); existing folders are left alone.</summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }
        if (Path.GetDirectoryName(path) is { Length: > 0 } parent)
        {
            CreatePrivateDirectory(parent);
        }
        Directory.CreateDirectory(path, OwnerOnlyFolder);
        File.SetUnixFileMode(path, OwnerOnlyFolder);
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
            CreatePrivateDirectory(parent);
            try
            {
                File.Move(temp, final, overwrite: false);
            }
            catch (IOException) when (File.Exists(final))
            {
                throw new RefusedException($"'{name}' already exists in {store.Root}; backups are never overwritten");
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
