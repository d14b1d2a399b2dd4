using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Floyo.Recovery.Secrets;

/// <summary>
/// floyo-dr's local secret store: one JSON file, mode 0600, keeping versions, tags and enabled flags the
/// way Key Vault does. A file that group or others could read (or change) is refused, not silently used:
/// its secrets must be treated as exposed. Writes take an flock()ed lock file and replace the file by
/// rename, so a reader always sees a whole file and a crash never leaves half of one.
/// </summary>
public sealed class FileSecretStore(string path, TimeProvider clock) : ISecretStore
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string FilePath { get; } = Path.GetFullPath(path);

    public string Location => $"file {FilePath}";

    public Task<SecretValue?> GetCurrentAsync(string name, CancellationToken ct)
    {
        SecretName.Check(name);
        var entry = Read().Secrets.GetValueOrDefault(name)?.Versions.LastOrDefault();
        return Task.FromResult(entry is null ? null : Reveal(name, entry));
    }

    public Task<SecretValue?> GetVersionAsync(string name, string version, CancellationToken ct)
    {
        SecretName.Check(name);
        var entry = Read().Secrets.GetValueOrDefault(name)?.Versions.FirstOrDefault(v => v.Version == version);
        return Task.FromResult(entry is null ? null : Reveal(name, entry));
    }

    public Task<SecretVersion> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, string? contentType, CancellationToken ct)
    {
        SecretName.Check(name);
        ArgumentNullException.ThrowIfNull(value);
        var entry = new StoredVersion
        {
            Version = RandomNumberGenerator.GetHexString(32, lowercase: true),
            Value = value,
            Enabled = true,
            Created = clock.GetUtcNow(),
            Tags = new Dictionary<string, string>(tags, StringComparer.Ordinal),
            ContentType = contentType,
        };
        Update(file =>
        {
            if (!file.Secrets.TryGetValue(name, out var secret))
            {
                file.Secrets[name] = secret = new StoredSecret();
            }
            secret.Versions.Add(entry);
        });
        return Task.FromResult(Describe(name, entry));
    }

    public Task<IReadOnlyList<SecretVersion>> ListVersionsAsync(string name, CancellationToken ct)
    {
        SecretName.Check(name);
        var versions = Read().Secrets.GetValueOrDefault(name)?.Versions ?? [];
        return Task.FromResult<IReadOnlyList<SecretVersion>>([.. Enumerable.Reverse(versions).Select(v => Describe(name, v))]);
    }

    public Task DisableVersionAsync(string name, string version, CancellationToken ct)
    {
        SecretName.Check(name);
        Update(file => Find(file, name, version).Enabled = false);
        return Task.CompletedTask;
    }

    public Task UpdateTagsAsync(string name, string version, IReadOnlyDictionary<string, string> tags, CancellationToken ct)
    {
        SecretName.Check(name);
        Update(file => Find(file, name, version).Tags = new Dictionary<string, string>(tags, StringComparer.Ordinal));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SecretVersion>> ListTaggedForRotationAsync(CancellationToken ct)
    {
        var result = Read().Secrets
            .Where(s => s.Value.Versions.Count > 0 && s.Value.Versions[^1].Tags.ContainsKey(SecretTags.Rotation))
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => Describe(s.Key, s.Value.Versions[^1]));
        return Task.FromResult<IReadOnlyList<SecretVersion>>([.. result]);
    }

    private static SecretValue Reveal(string name, StoredVersion entry) => entry.Enabled
        ? new SecretValue(Describe(name, entry), entry.Value)
        : throw new RecoveryException($"secret '{name}' version {entry.Version} is disabled");

    private static SecretVersion Describe(string name, StoredVersion v) =>
        new(name, v.Version, v.Enabled, v.Created, new Dictionary<string, string>(v.Tags, StringComparer.Ordinal), v.ContentType);

    private StoredVersion Find(StoredFile file, string name, string version) =>
        file.Secrets.GetValueOrDefault(name)?.Versions.FirstOrDefault(v => v.Version == version)
            ?? throw new NotFoundException($"secret '{name}' has no version {version} in {FilePath}");

    private StoredFile Read()
    {
        if (!File.Exists(FilePath))
        {
            return new StoredFile();
        }
        CheckPermissions();
        try
        {
            return JsonSerializer.Deserialize<StoredFile>(File.ReadAllBytes(FilePath), JsonOptions) ?? new StoredFile();
        }
        catch (JsonException)
        {
            // The parser's message can quote the text around the fault, which may be a secret value.
            throw new RecoveryException($"the secrets file {FilePath} is not valid JSON; fix or restore it");
        }
        catch (UnauthorizedAccessException)
        {
            throw new RecoveryException($"cannot read the secrets file {FilePath}: permission denied");
        }
    }

    private void CheckPermissions()
    {
        var mode = File.GetUnixFileMode(FilePath);
        if ((mode & GroupOrOther) != 0)
        {
            throw new RefusedException(
                $"the secrets file {FilePath} is accessible to group or others (mode {Octal(mode)}); refusing to use it: run 'chmod 600 {FilePath}' and rotate the secrets it holds");
        }
    }

    private void Update(Action<StoredFile> change)
    {
        var directory = Path.GetDirectoryName(FilePath)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        // FileShare.None takes an exclusive flock(), released by the kernel if this process dies.
        using var gate = AcquireLock(FilePath + ".lock");
        var file = Read();
        change(file);
        var temp = $"{FilePath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = OwnerOnly,
            }))
            {
                JsonSerializer.Serialize(stream, file, JsonOptions);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, FilePath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static FileStream AcquireLock(string lockPath)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    UnixCreateMode = OwnerOnly,
                });
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            catch (IOException)
            {
                throw new UnavailableException($"timed out waiting for the lock on {lockPath}");
            }
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);

    private sealed class StoredFile
    {
        [JsonPropertyName("secrets")]
        public Dictionary<string, StoredSecret> Secrets { get; set; } = new(StringComparer.Ordinal);
    }

    private sealed class StoredSecret
    {
        /// <summary>Oldest first; the last one is current.</summary>
        [JsonPropertyName("versions")]
        public List<StoredVersion> Versions { get; set; } = [];
    }

    private sealed class StoredVersion
    {
        public string Version { get; set; } = "";

        public string Value { get; set; } = "";

        public bool Enabled { get; set; } = true;

        public DateTimeOffset Created { get; set; }

        public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

        public string? ContentType { get; set; }
    }
}
