namespace Floyo.Recovery.Drills;

/// <summary>The plan's quarterly scenarios (Q1 to Q4) and the monthly restore test.</summary>
public static class DrillScenario
{
    public const string DatabaseCorruption = "database-corruption";
    public const string ServerFailure = "server-failure";
    public const string DatacenterOutage = "datacenter-outage";
    public const string SecurityBreach = "security-breach";
    public const string RestoreTest = "restore-test";

    public static readonly IReadOnlyList<string> All = [DatabaseCorruption, ServerFailure, DatacenterOutage, SecurityBreach, RestoreTest];

    /// <summary>Q1 corruption, Q2 total server failure, Q3 data-centre outage, Q4 security breach.</summary>
    public static string ForQuarter(DateTimeOffset at) => ((at.UtcDateTime.Month - 1) / 3) switch
    {
        0 => DatabaseCorruption,
        1 => ServerFailure,
        2 => DatacenterOutage,
        _ => SecurityBreach,
    };

    public static string Parse(string? name) =>
        All.FirstOrDefault(s => s == name?.Trim().ToLowerInvariant())
        ?? throw new UsageException($"unknown drill scenario '{name}': use one of {string.Join(", ", All)}");
}
