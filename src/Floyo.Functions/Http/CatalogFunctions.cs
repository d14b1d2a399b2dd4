using Floyo.Recovery;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Http;

/// <summary>The catalog and the health check (RPO and the PostgreSQL client tools).</summary>
public sealed class CatalogFunctions(BackupCatalog catalog, RpoCheck rpo, IOptions<DatabaseOptions> database, IOptions<RecoveryTargetOptions> targets, ClientToolCheck tools)
{
    [Function("ListBackups")]
    public async Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "backups")] HttpRequest request,
        CancellationToken ct)
    {
        var entries = await catalog.ListAsync(ct);
        return ApiResults.Json(StatusCodes.Status200OK, entries.Select(BackupSummary.Of).ToList());
    }

    /// <summary>
    /// 200 while the recovery point (continuous WAL or the newest verified backup) is within RPO_TARGET and the
    /// client tools are present and at least the server's major; 503, with every finding, when either is not or
    /// cannot be told.
    /// </summary>
    [Function("Health")]
    public async Task<IActionResult> HealthAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health")] HttpRequest request,
        CancellationToken ct)
    {
        var target = targets.Value.RpoTarget;
        var toolReport = await tools.CheckAsync(ct);
        var toolsBody = new
        {
            ready = toolReport.Ready,
            serverMajor = toolReport.ServerMajor,
            note = toolReport.ServerNote,
            tools = toolReport.Tools.Select(t => new { tool = t.Tool, path = t.Path, version = t.Version, problem = t.Problem }),
        };
        string? db = database.Value.DatabaseUrl is { Length: > 0 } url && DatabaseUrl.TryParse(url, out var parsed, out _) ? parsed.Database : null;
        RpoStatus status;
        try
        {
            status = await rpo.CheckAsync(db, target, ct);
        }
        catch (Exception e) when (e is RecoveryException or IOException or UnauthorizedAccessException)
        {
            var reason = $"the backup store cannot be read: {e.Message}";
            return ApiResults.Json(StatusCodes.Status503ServiceUnavailable, new
            {
                status = "unknown",
                reason,
                findings = new[] { reason }.Concat(toolReport.Findings),
                rpoTargetSeconds = target.TotalSeconds,
                clientTools = toolsBody,
            });
        }
        var findings = (status.WithinTarget ? [] : new[] { status.Reason }).Concat(toolReport.Findings).ToList();
        return ApiResults.Json(findings.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, new
        {
            status = !status.WithinTarget ? "rpo-breached" : toolReport.Ready ? "healthy" : "tools-unfit",
            reason = status.WithinTarget && !toolReport.Ready ? string.Join("; ", toolReport.Findings) : status.Reason,
            findings,
            database = status.Database,
            newestVerifiedBackup = status.NewestVerifiedBackup,
            backupTimestamp = status.BackupTimestamp,
            recoveryPoint = status.RecoveryPoint,
            recoveryPointSource = status.RecoveryPointSource,
            ageSeconds = status.AgeSeconds,
            rpoTargetSeconds = status.TargetSeconds,
            clientTools = toolsBody,
        });
    }
}
