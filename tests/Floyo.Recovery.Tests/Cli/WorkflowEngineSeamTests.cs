namespace Floyo.Recovery.Tests.Cli;

/// <summary>
/// The embedded workflow engine stays behind its seam (src/Floyo.Cli/Workflows/Engine/, decision record
/// docs/decisions/0001-workflow-engine.md): no other source names the preview package's namespaces.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class WorkflowEngineSeamTests
{
    private static readonly string[] EngineNamespaces = ["Microsoft.DurableTask.Testing", "DurableTask.Core"];

    [Fact]
    public void Only_the_engine_folder_names_the_in_process_test_host()
    {
        var root = RepositoryRoot();
        var engine = Path.Combine(root, "src", "Floyo.Cli", "Workflows", "Engine") + Path.DirectorySeparatorChar;
        var sources = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(sources, f => f.StartsWith(engine, StringComparison.Ordinal));

        var outside = sources
            .Where(f => !f.StartsWith(engine, StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(line => EngineNamespaces.Any(ns => line.StartsWith($"using {ns}", StringComparison.Ordinal) || line.Contains($" {ns}.", StringComparison.Ordinal))))
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();
        Assert.True(outside.Count == 0, $"outside the engine seam: {string.Join(", ", outside)}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Floyo.Functions.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (Floyo.Functions.sln) is not above the test binaries");
    }
}
