namespace Floyo.Recovery.Restores;

/// <summary>A checksum-proven, decompressed dump on local disk (owner-only), deleted on dispose.</summary>
public sealed class LocalDump(string path) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // The work directory is private; a leftover is removed with it.
        }
    }
}
