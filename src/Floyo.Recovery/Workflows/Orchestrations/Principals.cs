namespace Floyo.Recovery.Workflows.Orchestrations;

/// <summary>Who is who: principals compare case-insensitively and without surrounding spaces.</summary>
public static class Principals
{
    public static bool Same(string? a, string? b) =>
        string.Equals(a?.Trim(), b?.Trim(), StringComparison.OrdinalIgnoreCase);
}
