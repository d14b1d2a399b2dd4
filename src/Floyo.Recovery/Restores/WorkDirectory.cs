using Floyo.Recovery.Configuration;

namespace Floyo.Recovery.Restores;

/// <summary>The owner-only folder restores keep their local files in (FLOYO_WORK_DIR, else the temp folder).</summary>
public static class WorkDirectory
{
    public static string Create(DatabaseOptions options)
    {
        var dir = options.WorkDir is { Length: > 0 } configured ? configured : Path.Combine(Path.GetTempPath(), "floyo-dr");
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }
}
