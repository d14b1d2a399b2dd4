namespace Floyo.Recovery.Tests.Support;

/// <summary>Finds the shared Pagila fixture: FLOYO_PAGILA_DIR, else a shared/fixtures/pagila beside any ancestor folder.</summary>
public static class Fixtures
{
    public static string PagilaDirectory { get; } = FindPagila();

    public static string RepositoryRoot { get; } = FindUp(AppContext.BaseDirectory, d => File.Exists(Path.Combine(d, "Floyo.Functions.sln")))
        ?? throw new InvalidOperationException("cannot find the repository root (Floyo.Functions.sln)");

    private static string FindPagila()
    {
        if (Environment.GetEnvironmentVariable("FLOYO_PAGILA_DIR") is { Length: > 0 } configured)
        {
            return configured;
        }
        return FindUp(AppContext.BaseDirectory, d => File.Exists(Path.Combine(d, "shared", "fixtures", "pagila", "pagila-schema.sql"))) is { } root
            ? Path.Combine(root, "shared", "fixtures", "pagila")
            : File.Exists("/work/shared/fixtures/pagila/pagila-schema.sql")
                ? "/work/shared/fixtures/pagila"
                : throw new InvalidOperationException("the Pagila fixture (shared/fixtures/pagila) was not found: set FLOYO_PAGILA_DIR");
    }

    private static string? FindUp(string start, Func<string, bool> match)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (match(dir.FullName))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
