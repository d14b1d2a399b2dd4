using Floyo.Recovery.Configuration;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Postgres;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Workflows.Activities;

/// <summary>
/// A failure (<paramref name="Failed"/>) raises the incident of <paramref name="Key"/>; a success resolves it (every
/// key starting with <paramref name="Key"/> when <paramref name="WholePrefix"/>). <see cref="DatabaseToken"/> in the
/// key stands for DATABASE_URL's database, known even when the backup failed before connecting.
/// </summary>
public sealed record AlertInput(string Key, bool Failed, NotificationSeverity Severity, string Title, string Text, bool WholePrefix = false)
{
    public const string DatabaseToken = "{database}";
}

/// <summary>Raises or resolves one incident (IncidentAlerts). Idempotent: an open incident is not sent again, a resolved one not twice.</summary>
public sealed class AlertActivity(IncidentAlerts alerts, IOptions<DatabaseOptions> database, WorkflowRuntime runtime, ILogger<AlertActivity> logger)
    : RecoveryActivity<AlertInput, IReadOnlyList<AlertResult>>(runtime, logger)
{
    protected override async Task<IReadOnlyList<AlertResult>> ExecuteAsync(AlertInput input, TaskActivityContext context, CancellationToken ct)
    {
        var name = DatabaseUrl.TryParse(database.Value.DatabaseUrl ?? "", out var url, out _) && !string.IsNullOrEmpty(url.Database) ? url.Database : "database";
        string Fill(string s) => s.Replace(AlertInput.DatabaseToken, name, StringComparison.Ordinal);
        var key = Fill(input.Key);
        if (input.Failed)
        {
            return [await alerts.RaiseAsync(key, input.Severity, Fill(input.Title), Fill(input.Text), ct)];
        }
        return input.WholePrefix ? await alerts.ResolveAllAsync(key, Fill(input.Text), ct) : [await alerts.ResolveAsync(key, Fill(input.Text), ct)];
    }
}
