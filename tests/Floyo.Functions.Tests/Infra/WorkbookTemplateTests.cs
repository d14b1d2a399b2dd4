using System.Reflection;
using System.Text.Json;
using Floyo.Recovery.Checks;
using Floyo.Recovery.Metrics;
using Floyo.Recovery.Notifications;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Tests.Infra;

/// <summary>The compiled workbook (modules/workbook.bicep) and the managed server's storage alert (modules/alerts.bicep).</summary>
public sealed class WorkbookTemplateTests(BicepFixture bicep) : IClassFixture<BicepFixture>
{
    private JsonElement Workbook => bicep.Modules["workbook"].Template;

    private string Variable(string name) => Workbook.GetProperty("variables").GetProperty(name).GetString()!;

    private static int EventIdOf(Type type, string method) =>
        type.GetMethod(method, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)!.GetCustomAttribute<LoggerMessageAttribute>()!.EventId;

    [Fact]
    public void The_workbook_is_a_shared_workbook_on_the_workspace_with_one_query_per_view()
    {
        var resource = Assert.Single(BicepFixture.Resources(Workbook));
        Assert.Equal("Microsoft.Insights/workbooks", BicepFixture.Type(resource));
        Assert.Equal("shared", resource.GetProperty("kind").GetString());
        Assert.StartsWith("[guid(", resource.GetProperty("name").GetString(), StringComparison.Ordinal); // a workbook's name is a GUID
        var properties = resource.GetProperty("properties");
        Assert.Equal("[parameters('workspaceId')]", properties.GetProperty("sourceId").GetString());
        Assert.Equal("[string(variables('workbookContent'))]", properties.GetProperty("serializedData").GetString());
        var queries = Workbook.GetProperty("variables").GetProperty("queries").EnumerateArray().Select(q => q.GetProperty("name").GetString()).ToList();
        Assert.Equal(["backups-per-day", "recovery-point-age", "last-drills", "open-incidents", "failures"], queries);
        // main.bicep deploys it on the monitoring module's workspace.
        var deployment = bicep.Modules["workbook"].Deployment.GetProperty("properties").GetProperty("parameters");
        Assert.Contains("workspaceId", deployment.GetProperty("workspaceId").GetProperty("value").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Backups_recovery_point_and_drills_read_the_floyo_dr_meters_instruments_by_their_names()
    {
        var backups = Variable("backupsPerDay");
        Assert.StartsWith("AppMetrics", backups, StringComparison.Ordinal);
        Assert.Contains($"\"{DrMetrics.BackupDurationName}\"", backups, StringComparison.Ordinal);
        Assert.Contains($"\"{DrMetrics.BackupSizeName}\"", backups, StringComparison.Ordinal);
        Assert.Contains($"\"{DrMetrics.BackupCompressionRatioName}\"", backups, StringComparison.Ordinal);
        Assert.Contains("bin(TimeGenerated, 1d)", backups, StringComparison.Ordinal);
        Assert.Contains($"\"{DrMetrics.RecoveryPointAgeName}\"", Variable("recoveryPointAge"), StringComparison.Ordinal);

        var drills = Variable("drills");
        Assert.Contains(DrMetrics.DrillRtoName, drills, StringComparison.Ordinal);
        Assert.Contains(DrMetrics.DrillRpoName, drills, StringComparison.Ordinal);
        // The targets go in from parameters (4 h / 1 h by default), not as text that could drift.
        Assert.Contains("string(parameters('rtoTargetHours'))", drills, StringComparison.Ordinal);
        Assert.Contains("string(parameters('rpoTargetHours'))", drills, StringComparison.Ordinal);
        Assert.Equal(4, Workbook.GetProperty("parameters").GetProperty("rtoTargetHours").GetProperty("defaultValue").GetInt32());
        Assert.Equal(1, Workbook.GetProperty("parameters").GetProperty("rpoTargetHours").GetProperty("defaultValue").GetInt32());
    }

    [Fact]
    public void Open_incidents_and_failures_read_the_apps_own_event_ids()
    {
        var incidents = Variable("openIncidents");
        Assert.Contains($"\"{EventIdOf(typeof(IncidentAlerts), "LogOpened")}\"", incidents, StringComparison.Ordinal);
        Assert.Contains($"\"{EventIdOf(typeof(IncidentAlerts), "LogResolved")}\"", incidents, StringComparison.Ordinal);
        Assert.Contains("Properties.Key", incidents, StringComparison.Ordinal);

        var failures = Variable("failures");
        Assert.Contains("SeverityLevel >= 3", failures, StringComparison.Ordinal);
        Assert.Contains($"\"{CheckLogs.CheckFindingId}\"", failures, StringComparison.Ordinal);
        Assert.Equal(CheckLogs.CheckFindingId, EventIdOf(typeof(CheckLogs), nameof(CheckLogs.CheckFinding)));
    }

    [Fact]
    public void The_storage_percent_alert_exists_only_when_a_postgres_server_id_is_given()
    {
        var alerts = bicep.Modules["alerts"].Template;
        var storage = Assert.Single(BicepFixture.Resources(alerts), r => r.GetProperty("name").GetString()!.Contains("postgres-storage", StringComparison.Ordinal));
        Assert.Equal("[not(empty(parameters('postgresServerId')))]", storage.GetProperty("condition").GetString());
        var properties = storage.GetProperty("properties");
        Assert.Equal("[parameters('postgresServerId')]", properties.GetProperty("scopes")[0].GetString());
        var criterion = properties.GetProperty("criteria").GetProperty("allOf")[0];
        Assert.Equal("storage_percent", criterion.GetProperty("metricName").GetString());
        Assert.Equal("Microsoft.DBforPostgreSQL/flexibleServers", criterion.GetProperty("metricNamespace").GetString());
        Assert.Equal("GreaterThan", criterion.GetProperty("operator").GetString());
        Assert.Equal("[parameters('storagePercentThreshold')]", criterion.GetProperty("threshold").GetString());
        Assert.Equal(85, alerts.GetProperty("parameters").GetProperty("storagePercentThreshold").GetProperty("defaultValue").GetInt32());
        Assert.Contains("actionGroups", properties.GetProperty("actions")[0].GetProperty("actionGroupId").GetString(), StringComparison.Ordinal);
        // Off by default: main.bicep passes an empty id unless the deployment names its server.
        Assert.Equal("", bicep.Template.GetProperty("parameters").GetProperty("postgresServerId").GetProperty("defaultValue").GetString());
        Assert.Equal("[parameters('postgresServerId')]", bicep.Modules["alerts"].Deployment.GetProperty("properties").GetProperty("parameters").GetProperty("postgresServerId").GetProperty("value").GetString());
    }
}
