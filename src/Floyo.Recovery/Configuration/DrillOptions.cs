using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.Configuration;

/// <summary>Where drills run (never production) and the recovery targets they are judged against.</summary>
public sealed class DrillOptions
{
    /// <summary>The staging/alternate server and the database name drills may replace freely.</summary>
    [ConfigurationKeyName("STAGING_DATABASE_URL")]
    public string? StagingDatabaseUrl { get; set; }

    [ConfigurationKeyName("RTO_TARGET")]
    public TimeSpan RtoTarget { get; set; } = TimeSpan.FromHours(4);

    [ConfigurationKeyName("RPO_TARGET")]
    public TimeSpan RpoTarget { get; set; } = TimeSpan.FromHours(1);

    [ConfigurationKeyName("RTO_MAX")]
    public TimeSpan RtoMax { get; set; } = TimeSpan.FromHours(24);

    [ConfigurationKeyName("RPO_MAX")]
    public TimeSpan RpoMax { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The application's login role to prove can connect and read after a restore; by default the backup's first non-superuser login.</summary>
    [ConfigurationKeyName("DRILL_APP_LOGIN")]
    public string? AppLogin { get; set; }
}
