namespace Floyo.Recovery.Storage;

/// <summary>
/// The one gate every object name passes: relative, '/'-separated, no '..', no hidden or control
/// characters. A name that fails never reaches a driver, so nothing outside the store can be named.
/// </summary>
public static class ObjectName
{
    public static string Check(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new UsageException("an empty name is not a backup name");
        }
        if (name.Length > 512)
        {
            throw new UsageException("that name is too long to be a backup name");
        }
        if (name.StartsWith('/') || name.Contains('\\', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal) && Path.IsPathRooted(name))
        {
            throw new UsageException($"'{name}' is a path, not a name in the backup store: give a name as 'floyo-dr list' prints it");
        }
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == ".." || segment.StartsWith('.'))
            {
                throw new UsageException($"'{name}' points outside the backup store: give a name as 'floyo-dr list' prints it");
            }
        }
        if (name.Any(char.IsControl))
        {
            throw new UsageException("that name contains control characters");
        }
        return name;
    }
}
