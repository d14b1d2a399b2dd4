using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.Configuration;

/// <summary>Where drills run: never production.</summary>
public sealed class DrillOptions
{
    /// <summary>The staging/alternate server and the database name drills may replace freely.</summary>
    [ConfigurationKeyName("STAGING_DATABASE_URL")]
    public string? StagingDatabaseUrl { get; set; }

    /// <summary>The application's login role to prove can connect and read after a restore; by default the backup's first non-superuser login.</summary>
    [ConfigurationKeyName("DRILL_APP_LOGIN")]
    public string? AppLogin { get; set; }
}
