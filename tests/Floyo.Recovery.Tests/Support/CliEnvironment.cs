namespace Floyo.Recovery.Tests.Support;

/// <summary>Settings for one floyo-dr run: a database and a private backup folder.</summary>
public static class CliEnvironment
{
    public static Dictionary<string, string?> For(TestDatabase database, string backupDir, params (string Key, string? Value)[] extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.Url,
            ["BACKUP_DIR"] = backupDir,
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }
        return environment;
    }

    public static Dictionary<string, string?> Settings(TestDatabase database, string backupDir) => new()
    {
        ["DATABASE_URL"] = database.Url,
        ["BACKUP_DIR"] = backupDir,
    };
}
