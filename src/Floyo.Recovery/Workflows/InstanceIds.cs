namespace Floyo.Recovery.Workflows;

/// <summary>Ids for workflows a person starts (CLI, HTTP): who started it shows in the prefix, when in the stamp.</summary>
public static class InstanceIds
{
    public static string New(string prefix, DateTimeOffset now) =>
        $"{prefix}{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid().ToString("N")[..8]}";
}
