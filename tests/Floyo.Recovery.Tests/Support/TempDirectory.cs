namespace Floyo.Recovery.Tests.Support;

/// <summary>A fresh folder under the system temp dir, removed (read-only backups included) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("floyo-test-").FullName;

    public override string ToString() => Path;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A tmpfs still mounted, or similar: the OS temp cleaner gets it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
