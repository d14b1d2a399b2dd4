using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Floyo.Recovery.Configuration;

namespace Floyo.Recovery.Restores;

/// <summary>
/// The owner-only folder restores keep their local files in (FLOYO_WORK_DIR, else the temp folder). The
/// files there (a dump, the archive's table of contents, pg_restore's lists) decide what is restored into
/// production, so a folder someone else could have made first, or can write into, is refused, not used.
/// </summary>
public static partial class WorkDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    public static string Create(DatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.WorkDir is { Length: > 0 };
        var dir = Path.GetFullPath(configured ? options.WorkDir! : Path.Combine(Path.GetTempPath(), "floyo-dr"));
        var remedy = configured ? "make it owner-only (chmod 700) or point FLOYO_WORK_DIR elsewhere" : "remove it, or set FLOYO_WORK_DIR to an owner-only folder";
        try
        {
            Directory.CreateDirectory(dir, OwnerOnly);
        }
        catch (IOException e)
        {
            throw new RecoveryException($"cannot create the work folder {dir} ({e.Message}): {remedy}", e);
        }
        var (isDirectory, owner, mode) = Inspect(dir);
        if (!isDirectory)
        {
            throw new ConfigurationException($"the work folder {dir} is a symbolic link or not a folder; it must be a private folder: {remedy}");
        }
        if (owner is { } uid && uid != GetEffectiveUserId())
        {
            throw new ConfigurationException($"the work folder {dir} belongs to uid {uid.ToString(CultureInfo.InvariantCulture)}, not this user; it must be private: {remedy}");
        }
        if ((mode & WritableByOthers) != 0)
        {
            throw new ConfigurationException($"the work folder {dir} is writable by other users (mode 0{Convert.ToString((int)mode, 8)}); refusing to use it: {remedy}");
        }
        // Ours and no one else could have written into it: close it to readers too (an earlier version left 0755).
        File.SetUnixFileMode(dir, OwnerOnly);
        return dir;
    }

    /// <summary>lstat() of the folder: a real folder (not a link), its owner (null where statx is unavailable) and its permissions.</summary>
    private static (bool IsDirectory, uint? Owner, UnixFileMode Mode) Inspect(string dir)
    {
        try
        {
            // struct statx has one layout on every Linux architecture: uid at 20, mode at 28.
            var buffer = new byte[256];
            if (Statx(AtFdCwd, dir, AtSymlinkNoFollow, StatxType | StatxMode | StatxUid, buffer) == 0)
            {
                var rawMode = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28));
                var uid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20));
                return ((rawMode & 0xF000) == 0x4000, uid, (UnixFileMode)(rawMode & 0x1FF));
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not Linux: fall through to what .NET can tell (no owner).
        }
        var info = new DirectoryInfo(dir);
        return (info.Exists && info.LinkTarget is null, null, File.GetUnixFileMode(dir));
    }

    private static uint GetEffectiveUserId()
    {
        try
        {
            return GetEuid();
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return uint.MaxValue;
        }
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxMode = 0x2;
    private const uint StatxUid = 0x8;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
