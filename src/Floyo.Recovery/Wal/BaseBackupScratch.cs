using System.Globalization;
using Floyo.Recovery.Storage;

namespace Floyo.Recovery.Wal;

/// <summary>
/// A private temporary directory for one server-compressed base backup, removed when disposed. A directory
/// left by a floyo-dr that was killed (its pid file names a process that is gone) is removed by the next one.
/// </summary>
internal sealed class BaseBackupScratch : IDisposable
{
    private const string Prefix = "floyo-dr-basebackup-";
    private const string PidFile = "owner.pid";

    private BaseBackupScratch(string path) => Path = path;

    public string Path { get; }

    public static BaseBackupScratch Create(string? parent = null)
    {
        parent ??= System.IO.Path.GetTempPath();
        RemoveAbandoned(parent);
        var path = System.IO.Path.Combine(parent, Prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(System.IO.Path.Combine(path, PidFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return new BaseBackupScratch(path);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Removed by the next base backup (RemoveAbandoned) once this process is gone.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    internal static void RemoveAbandoned(string parent)
    {
        if (!Directory.Exists(parent))
        {
            return;
        }
        foreach (var directory in Directory.EnumerateDirectories(parent, Prefix + "*"))
        {
            try
            {
                var owner = File.Exists(System.IO.Path.Combine(directory, PidFile))
                    && int.TryParse(File.ReadAllText(System.IO.Path.Combine(directory, PidFile)), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    ? pid : 0;
                if (owner == 0 || !FilesystemStore.IsAlive(owner))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or in use: not ours to remove.
            }
        }
    }
}
