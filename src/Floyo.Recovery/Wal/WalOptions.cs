using Floyo.Recovery.Compression;
using Microsoft.Extensions.Configuration;

namespace Floyo.Recovery.Wal;

/// <summary>Settings of continuous archiving and point-in-time recovery.</summary>
public sealed class WalOptions
{
    /// <summary>
    /// How the database server runs floyo-dr, for the restore_command a PITR writes (e.g. a wrapper script
    /// that sets the store settings). Unset: this floyo-dr itself, with the filesystem store's settings inline.
    /// </summary>
    [ConfigurationKeyName("FLOYO_DR_COMMAND")]
    public string? Command { get; set; }

    /// <summary>
    /// zstd level of base backups (1-19), apart from BACKUP_COMPRESSION_LEVEL, which dumps keep. 3 measured here:
    /// at or under pgBackRest's size at its level 3 on the benchmark's 1 GB cluster, where 2 is 2-3% over.
    /// </summary>
    [ConfigurationKeyName("BASE_BACKUP_COMPRESSION_LEVEL")]
    public int BaseBackupCompressionLevel { get; set; } = 3;

    /// <summary>
    /// zstd's advanced parameters on top of BASE_BACKUP_COMPRESSION_LEVEL where floyo-dr compresses a base backup
    /// itself (not pg_basebackup's server-zstd, which takes a level only): <c>key=value,...</c> of strategy, windowLog,
    /// hashLog, chainLog, searchLog, minMatch, targetLength; empty: the level's own. The default is measured in
    /// docs/base-backup-speed.md: the same size as level 3 on a PostgreSQL data directory, for less CPU.
    /// </summary>
    [ConfigurationKeyName("BASE_BACKUP_ZSTD_PARAMETERS")]
    public string? BaseBackupZstdParameters { get; set; } = DefaultBaseBackupZstdParameters;

    public const string DefaultBaseBackupZstdParameters = "strategy=fast,windowLog=21,hashLog=18,minMatch=5";

    /// <summary>BASE_BACKUP_ZSTD_PARAMETERS parsed, for <c>ZstdFrameWriter.Create(..., parameters: ...)</c>; the validator has checked it at start-up.</summary>
    public ZstdParameters BaseBackupZstd() => ZstdParameters.Parse(BaseBackupZstdParameters);

    public const string ServerSide = "server";
    public const string ClientSide = "client";

    /// <summary>
    /// Where base backups are compressed: <c>server</c> (pg_basebackup's server-zstd, PostgreSQL 15+; older servers
    /// fall back to client) or <c>client</c> (this process). Server measured here at about a third less CPU in
    /// all (only the compressed bytes cross the socket, pg_basebackup and floyo-dr), at the database server's cost.
    /// </summary>
    [ConfigurationKeyName("BASE_BACKUP_COMPRESSION_SIDE")]
    public string BaseBackupCompressionSide { get; set; } = ServerSide;

    /// <summary>
    /// The database server's data directory, as an absolute path on this machine: set, base backups read it directly
    /// (floyo-dr on the database host as the server's OS user; pg_backup_start/stop in one session, no pg_basebackup),
    /// after proving it is the connected server's live directory. Unset: pg_basebackup. Never guessed.
    /// </summary>
    [ConfigurationKeyName("BASE_BACKUP_DATA_DIR")]
    public string? BaseBackupDataDirectory { get; set; }

    /// <summary><see cref="BaseBackupDataDirectory"/>, with an empty value read as unset.</summary>
    internal string? DirectDataDirectory => string.IsNullOrWhiteSpace(BaseBackupDataDirectory) ? null : BaseBackupDataDirectory;

    /// <summary>How long <c>restore --pitr --start</c> waits for recovery to reach its target.</summary>
    [ConfigurationKeyName("PITR_TIMEOUT_SECONDS")]
    public int RecoveryTimeoutSeconds { get; set; } = 1800;

    /// <summary>Segments each <c>wal fetch</c> of a PITR fetches ahead (one floyo-dr start per this many segments); 0 turns it off.</summary>
    [ConfigurationKeyName("PITR_PREFETCH_SEGMENTS")]
    public int PrefetchSegments { get; set; } = 16;

    /// <summary>
    /// zstd's advanced parameters on top of BACKUP_COMPRESSION_LEVEL for archived WAL files (same syntax as
    /// BASE_BACKUP_ZSTD_PARAMETERS); empty: the level alone. The default measured smaller and faster than level 2 on
    /// two kinds of segments (docs/wal-push-batch.md).
    /// </summary>
    [ConfigurationKeyName("WAL_PUSH_ZSTD_PARAMETERS")]
    public string? PushZstdParameters { get; set; } = DefaultPushZstdParameters;

    public const string DefaultPushZstdParameters = "strategy=fast,windowLog=20,hashLog=14,minMatch=5";

    /// <summary>WAL_PUSH_ZSTD_PARAMETERS parsed; the validator has checked it at start-up.</summary>
    public ZstdParameters PushZstd() => ZstdParameters.Parse(PushZstdParameters);

    /// <summary><c>wal push --batch</c>: the most WAL files one floyo-dr start archives, the one asked for included.</summary>
    [ConfigurationKeyName("WAL_PUSH_BATCH_FILES")]
    public int PushBatchFiles { get; set; } = 32;

    /// <summary><c>wal push --batch</c>: how many WAL files are read, compressed and stored at once (each holds 16 MiB in memory).</summary>
    [ConfigurationKeyName("WAL_PUSH_PARALLELISM")]
    public int PushParallelism { get; set; } = 2;

    /// <summary>How long an incremental backup waits for the segment it closed to reach the store (archive lag plus one push).</summary>
    [ConfigurationKeyName("INCREMENTAL_ARCHIVE_WAIT_SECONDS")]
    public int ArchiveWaitSeconds { get; set; } = 120;

    /// <summary>
    /// Pull mode: the physical replication slot <c>wal receive</c> drains with pg_receivewal (created if missing),
    /// for servers where floyo-dr cannot run as archive_command. Unset: pull mode is not configured.
    /// </summary>
    [ConfigurationKeyName("WAL_RECEIVE_SLOT")]
    public string? ReceiveSlot { get; set; }

    /// <summary>A replication slot retaining more WAL than this (MiB) on the server is a finding: its consumer is not keeping up.</summary>
    [ConfigurationKeyName("WAL_SLOT_MAX_RETAINED_MB")]
    public int SlotMaxRetainedMegabytes { get; set; } = 1024;

    /// <summary>How far past archive_timeout the newest archived segment may lag, while the server writes WAL, before the archiver counts as stopped.</summary>
    [ConfigurationKeyName("WAL_ARCHIVE_STALL_MARGIN_SECONDS")]
    public int ArchiveStallMarginSeconds { get; set; } = 60;

    /// <summary>
    /// A further copy lacking WAL the primary has held longer than this (minutes) is a finding (list, /api/health,
    /// drills). The copies are fed every 6 hours (the incremental) and after each base backup: 7 h is one run plus a margin.
    /// </summary>
    [ConfigurationKeyName("WAL_COPY_MAX_LAG_MINUTES")]
    public int CopyMaxLagMinutes { get; set; } = 420;

    /// <summary>
    /// Every copy run (without --verify) also proves by SHA-256 the files a PITR from that copy needs first: its newest
    /// base backup and this many of its newest WAL segments; the rest is compared by size. 0: sizes only.
    /// </summary>
    [ConfigurationKeyName("WAL_COPY_VERIFY_SAMPLE")]
    public int CopyVerifySample { get; set; } = 8;
}
