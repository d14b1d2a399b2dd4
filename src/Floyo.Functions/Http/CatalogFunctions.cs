using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Http;

/// <summary>The catalog and the RPO health check.</summary>
public sealed class CatalogFunctions(BackupCatalog catalog, RpoCheck rpo, IOptions<DatabaseOptions> database, IOptions<RecoveryTargetOptions> targets)
{
    [Function("ListBackups")]
    public async Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "backups")] HttpRequest request,
        CancellationToken ct)
    {
        var entries = await catalog.ListAsync(ct);
        return ApiResults.Json(StatusCodes.Status200OK, entries.Select(BackupSummary.Of).ToList());
    }

    /// <summary>200 while the recovery point (continuous WAL or the newest verified backup) is within RPO_TARGET; 503, saying why, when it is not or cannot be told.</summary>
    [Function("Health")]
    public async Task<IActionResult> HealthAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health")] HttpRequest request,
        CancellationToken ct)
    {
        var target = targets.Value.RpoTarget;
        string? db = database.Value.DatabaseUrl is { Length: > 0 } url && DatabaseUrl.TryParse(url, out var parsed, out _) ? parsed.Database : null;
        RpoStatus status;
        try
        {
            status = await rpo.CheckAsync(db, target, ct);
        }
        catch (Exception e) when (e is RecoveryException or IOException or UnauthorizedAccessException)
        {
            return ApiResults.Json(StatusCodes.Status503ServiceUnavailable, new { status = "unknown", reason = $"the backup store cannot be read: {e.Message}", rpoTargetSeconds = target.TotalSeconds });
        }
        return ApiResults.Json(status.WithinTarget ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, new
        {
            status = status.WithinTarget ? "healthy" : "rpo-breached",
            reason = status.Reason,
            database = status.Database,
            newestVerifiedBackup = status.NewestVerifiedBackup,
            backupTimestamp = status.BackupTimestamp,
            recoveryPoint = status.RecoveryPoint,
            recoveryPointSource = status.RecoveryPointSource,
            ageSeconds = status.AgeSeconds,
            rpoTargetSeconds = status.TargetSeconds,
        });
    }
}
