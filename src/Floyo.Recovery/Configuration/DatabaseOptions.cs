using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.Configuration;

/// <summary>Where the protected database lives. Names follow the DR plan's environment variables.</summary>
public sealed class DatabaseOptions
{
    /// <summary>A <c>postgresql://</c> URI or a key=value connection string.</summary>
    [ConfigurationKeyName("DATABASE_URL")]
    public string? DatabaseUrl { get; set; }

    /// <summary>Server used for verification restores; the database server itself when unset.</summary>
    [ConfigurationKeyName("VERIFY_DATABASE_URL")]
    public string? VerifyDatabaseUrl { get; set; }

    /// <summary>Folder holding pg_dump/pg_restore; PATH when unset.</summary>
    [ConfigurationKeyName("PG_BIN_DIR")]
    public string? PgBinDir { get; set; }

    /// <summary>Parallel COPY sessions and pg_restore jobs during a restore.</summary>
    [ConfigurationKeyName("RESTORE_JOBS")]
    public int RestoreJobs { get; set; } = 2;

    /// <summary>Scratch space for restores (the archive's table of contents; the whole dump only when it cannot be streamed).</summary>
    [ConfigurationKeyName("FLOYO_WORK_DIR")]
    public string? WorkDir { get; set; }
}
