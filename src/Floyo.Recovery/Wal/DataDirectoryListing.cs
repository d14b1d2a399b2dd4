using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Floyo.Recovery.Wal;

/// <summary>One directory or regular file of the data directory to copy, by its path relative to it ('/' separated).</summary>
public sealed record DataDirectoryEntry(string RelativePath, string FullPath, bool IsDirectory, UnixFileMode Mode, DateTimeOffset LastModified);

/// <summary>
/// What a direct base backup copies of a data directory: exactly what pg_basebackup sends (PostgreSQL 15's
/// basebackup.c). The contents of directories rebuilt at start-up are left out (the directories kept, for their
/// permissions), pg_wal is kept empty with its archive_status (the WAL comes from the archive), as are files
/// that belong to the running server or are rebuilt (postmaster.pid, pg_internal.init, temporary files and
/// relations, the non-init forks of unlogged relations). global/pg_control comes last: the backup must not
/// hold a control file older than the data it describes. Symbolic links other than pg_wal are skipped with a
/// note, as pg_basebackup does (tablespaces are refused before listing).
/// </summary>
public static partial class DataDirectoryListing
{
    public const string ControlFile = "global/pg_control";

    private static readonly HashSet<string> ContentsExcluded = new(StringComparer.Ordinal)
    {
        "pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans",
    };

    private static readonly HashSet<string> FilesExcluded = new(StringComparer.Ordinal)
    {
        "postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label", "tablespace_map", "backup_manifest", "postmaster.pid", "postmaster.opts",
    };

    private static readonly string[] ForkSuffixes = ["_fsm", "_vm", "_init"];

    /// <summary>The entries in copy order (parents before children, pg_control last); <paramref name="skipped"/> hears of each special file left out.</summary>
    public static List<DataDirectoryEntry> List(string dataDir, Action<string>? skipped = null)
    {
        var root = Path.GetFullPath(dataDir).TrimEnd('/');
        var entries = new List<DataDirectoryEntry>();
        Walk(root, "", entries, skipped);
        var control = new FileInfo(Path.Combine(root, ControlFile));
        if (!control.Exists)
        {
            throw new RefusedException($"{root} has no {ControlFile}: it is not a PostgreSQL data directory; nothing was written");
        }
        entries.Add(new DataDirectoryEntry(ControlFile, control.FullName, false, control.UnixFileMode, control.LastWriteTimeUtc));
        return entries;
    }

    private static void Walk(string root, string relative, List<DataDirectoryEntry> entries, Action<string>? skipped)
    {
        var directory = relative.Length == 0 ? root : Path.Combine(root, relative);
        var isDatabaseDirectory = IsDatabaseDirectory(relative);
        FileSystemInfo[] children;
        try
        {
            children = new DirectoryInfo(directory).GetFileSystemInfos();
        }
        catch (DirectoryNotFoundException)
        {
            // Dropped (a database) while listing: pg_basebackup skips what vanished too.
            return;
        }
        Array.Sort(children, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var child in children)
        {
            var name = child.Name;
            var path = relative.Length == 0 ? name : relative + "/" + name;
            if (name.StartsWith("pgsql_tmp", StringComparison.Ordinal) || FilesExcluded.Contains(name) || name.StartsWith("pg_internal.init", StringComparison.Ordinal))
            {
                continue;
            }
            if (isDatabaseDirectory && (IsUnloggedNonInitFork(directory, name) || LooksLikeTemporaryRelation(name)))
            {
                continue;
            }
            if (path == ControlFile)
            {
                continue;
            }
            try
            {
                child.Refresh();
                if (!child.Exists)
                {
                    continue;
                }
                var isLink = child.LinkTarget is not null;
                if (ContentsExcluded.Contains(name) || path == "pg_wal")
                {
                    // Kept as an empty directory (a symbolic link too, as pg_basebackup writes it), for its permissions.
                    var mode = isLink ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : child.UnixFileMode;
                    entries.Add(new DataDirectoryEntry(path, child.FullName, true, mode, child.LastWriteTimeUtc));
                    if (path == "pg_wal")
                    {
                        entries.Add(new DataDirectoryEntry("pg_wal/archive_status", Path.Combine(child.FullName, "archive_status"), true, mode, child.LastWriteTimeUtc));
                    }
                    continue;
                }
                if (isLink)
                {
                    skipped?.Invoke(path);
                    continue;
                }
                if (child is DirectoryInfo)
                {
                    entries.Add(new DataDirectoryEntry(path, child.FullName, true, child.UnixFileMode, child.LastWriteTimeUtc));
                    Walk(root, path, entries, skipped);
                }
                else if (child is FileInfo && IsRegularFile(child.FullName))
                {
                    entries.Add(new DataDirectoryEntry(path, child.FullName, false, child.UnixFileMode, child.LastWriteTimeUtc));
                }
                else
                {
                    skipped?.Invoke(path);
                }
            }
            catch (FileNotFoundException)
            {
                // Vanished between the listing and its look.
            }
        }
    }

    /// <summary>
    /// .NET shows a FIFO or a socket (a server's .s.PGSQL socket when unix_socket_directories is the data directory) as
    /// a file; opening one would block or fail. pg_basebackup skips them; so does this, by the file type statx gives
    /// (struct statx has one layout on every Linux architecture: the mode at 28).
    /// </summary>
    internal static bool IsRegularFile(string path)
    {
        try
        {
            var buffer = new byte[256];
            if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
            {
                // Gone since the listing (a dropped relation): the copy skips what it cannot open.
                return true;
            }
            return (BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28)) & 0xF000) == 0x8000;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not Linux: what .NET tells.
            return (File.GetAttributes(path) & (FileAttributes.Device | FileAttributes.ReparsePoint)) == 0;
        }
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);

    /// <summary>base/&lt;digits&gt;: a directory that holds relations (tablespaces are not supported in this mode).</summary>
    private static bool IsDatabaseDirectory(string relative) =>
        relative.StartsWith("base/", StringComparison.Ordinal) && relative.Length > 5 && relative.AsSpan(5).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>A main, fsm or vm fork (or segment of one) of a relation that has an _init fork: an unlogged relation, reset at start-up.</summary>
    internal static bool IsUnloggedNonInitFork(string directory, string name)
    {
        if (!TryParseRelationFile(name, out var relation, out var fork) || fork == "_init")
        {
            return false;
        }
        return File.Exists(Path.Combine(directory, relation + "_init"));
    }

    /// <summary>&lt;relfilenode&gt;[_fork][.segment], as PostgreSQL's parse_filename_for_nontemp_relation reads a file name.</summary>
    internal static bool TryParseRelationFile(string name, out string relation, out string fork)
    {
        relation = "";
        fork = "";
        var digits = Digits(name, 0);
        if (digits is 0 or > 10)
        {
            return false;
        }
        relation = name[..digits];
        var rest = name.AsSpan(digits);
        foreach (var suffix in ForkSuffixes)
        {
            if (rest.StartsWith(suffix, StringComparison.Ordinal))
            {
                fork = suffix;
                rest = rest[suffix.Length..];
                break;
            }
        }
        return IsSegmentSuffix(rest);
    }

    /// <summary>t&lt;backend&gt;_&lt;relfilenode&gt;[_fork][.segment]: a temporary relation, as looks_like_temp_rel_name reads it.</summary>
    internal static bool LooksLikeTemporaryRelation(string name)
    {
        if (!name.StartsWith('t'))
        {
            return false;
        }
        var backend = Digits(name, 1);
        if (backend == 0 || name.Length <= 1 + backend || name[1 + backend] != '_')
        {
            return false;
        }
        var start = 2 + backend;
        var relation = Digits(name, start);
        if (relation == 0)
        {
            return false;
        }
        var rest = name.AsSpan(start + relation);
        foreach (var suffix in ForkSuffixes)
        {
            if (rest.StartsWith(suffix, StringComparison.Ordinal))
            {
                rest = rest[suffix.Length..];
                break;
            }
        }
        return IsSegmentSuffix(rest);
    }

    private static bool IsSegmentSuffix(ReadOnlySpan<char> rest) =>
        rest.IsEmpty || (rest[0] == '.' && rest.Length > 1 && rest[1..].IndexOfAnyExceptInRange('0', '9') < 0);

    private static int Digits(string text, int from)
    {
        var end = from;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }
        return end - from;
    }
}
