using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Checks;

/// <summary>
/// <c>pg_database_size</c> of the protected database against DATABASE_CAPACITY_GB (the disk it lives on; a
/// managed server's storage size). Unset capacity: not configured (on Azure Database for PostgreSQL the
/// storage_percent metric alert in infra/bicep watches the server's disk instead).
/// </summary>
public sealed class DatabaseSizeCheck(DatabaseConnections connections, IOptions<DatabaseOptions> database, IOptions<CheckOptions> options) : ICheck
{
    public string Name => "database-size";

    public async Task<CheckResult> RunAsync(CancellationToken ct)
    {
        if (!ProtectedDatabase.IsConfigured(database))
        {
            return CheckResult.NotConfigured(Name, "DATABASE_URL is not set");
        }
        if (options.Value.DatabaseCapacityGb is not { } capacityGb)
        {
            return CheckResult.NotConfigured(Name, "DATABASE_CAPACITY_GB is not set");
        }
        await using var connection = await PgConnector.OpenAsync(await connections.DatabaseAsync(ct), ct);
        await using var command = new NpgsqlCommand("SELECT current_database(), pg_database_size(current_database())", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (name, size) = (reader.GetString(0), reader.GetInt64(1));
        var capacity = capacityGb * (1L << 30);
        var percent = 100.0 * size / capacity;
        var detail = $"database '{name}' is {CheckText.Bytes(size)}, {CheckText.Percent(percent)} of DATABASE_CAPACITY_GB {CheckText.Bytes(capacity)}";
        return Threshold.Classify(Name, percent, options.Value, detail);
    }
}

/// <summary>The disk thresholds shared by the database-size and backup-directory checks.</summary>
internal static class Threshold
{
    public static CheckResult Classify(string check, double usedPercent, CheckOptions options, string detail) =>
        usedPercent >= options.DiskCriticalPercent
            ? CheckResult.Finding(check, NotificationSeverity.Critical, $"{detail}: at or over CHECK_DISK_CRITICAL_PERCENT {CheckText.Percent(options.DiskCriticalPercent)}", Math.Round(usedPercent, 2), "percent")
            : usedPercent >= options.DiskWarningPercent
                ? CheckResult.Finding(check, NotificationSeverity.Warning, $"{detail}: at or over CHECK_DISK_WARNING_PERCENT {CheckText.Percent(options.DiskWarningPercent)}", Math.Round(usedPercent, 2), "percent")
                : CheckResult.Ok(check, detail, Math.Round(usedPercent, 2), "percent");
}
