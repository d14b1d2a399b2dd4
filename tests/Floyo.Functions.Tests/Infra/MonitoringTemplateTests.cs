using System.Text.Json;
using Floyo.Recovery.Notifications;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Functions.Tests.Infra;

/// <summary>The compiled ARM template's alerting (modules/alerts.bicep) and host.json's telemetry settings.</summary>
public sealed class MonitoringTemplateTests(BicepFixture bicep) : IClassFixture<BicepFixture>
{
    private List<JsonElement> Alerts => [.. BicepFixture.Resources(bicep.Modules["alerts"].Template)];

    private List<JsonElement> OfType(string type) => [.. Alerts.Where(r => string.Equals(BicepFixture.Type(r), type, StringComparison.OrdinalIgnoreCase))];

    private static JsonElement Props(JsonElement r) => r.GetProperty("properties");

    [Fact]
    public void One_action_group_has_email_receivers_from_a_parameter_and_pagerduty_and_chat_webhooks()
    {
        var group = Assert.Single(OfType("Microsoft.Insights/actionGroups"));
        Assert.Equal("global", group.GetProperty("location").GetString());
        var properties = Props(group);
        var emails = Assert.Single(properties.GetProperty("copy").EnumerateArray(), c => c.GetProperty("name").GetString() == "emailReceivers");
        Assert.Equal("[length(parameters('alertEmails'))]", emails.GetProperty("count").GetString());
        var hooks = properties.GetProperty("webhookReceivers").GetString()!;
        Assert.Contains("parameters('pagerDutyAlertWebhookUrl')", hooks, StringComparison.Ordinal);
        Assert.Contains("parameters('chatAlertWebhookUrl')", hooks, StringComparison.Ordinal);
        // The webhook URLs are secrets: secure parameters, here and in main.bicep.
        var parameters = bicep.Modules["alerts"].Template.GetProperty("parameters");
        Assert.Equal("securestring", parameters.GetProperty("pagerDutyAlertWebhookUrl").GetProperty("type").GetString());
        Assert.Equal("securestring", bicep.Template.GetProperty("parameters").GetProperty("chatAlertWebhookUrl").GetProperty("type").GetString());
        var alertsDeployment = bicep.Modules["alerts"].Deployment.GetProperty("properties").GetProperty("parameters");
        Assert.Equal("[parameters('alertEmails')]", alertsDeployment.GetProperty("alertEmails").GetProperty("value").GetString());
    }

    [Fact]
    public void The_dead_mans_switch_queries_the_workspace_for_the_absence_of_the_full_backup_success_event()
    {
        var rules = OfType("Microsoft.Insights/scheduledQueryRules");
        var deadMan = Assert.Single(rules, r => r.GetProperty("name").GetString()!.Contains("no-recent-backup", StringComparison.Ordinal));
        var p = Props(deadMan);
        // Scoped to the Log Analytics workspace, not the app: it fires when the app is down.
        Assert.Contains("Microsoft.OperationalInsights/workspaces", p.GetProperty("scopes")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("PT1H", p.GetProperty("evaluationFrequency").GetString());
        Assert.Equal("P2D", p.GetProperty("windowSize").GetString());
        Assert.True(p.GetProperty("autoMitigate").GetBoolean());
        var criterion = p.GetProperty("criteria").GetProperty("allOf")[0];
        var query = criterion.GetProperty("query").GetString()!;
        Assert.Contains("AppTraces", query, StringComparison.Ordinal);
        Assert.DoesNotContain("${", query, StringComparison.Ordinal); // multi-line Bicep strings do not interpolate
        Assert.Contains("variables('fullBackupSucceededEventId')", query, StringComparison.Ordinal);
        Assert.Equal(AlertLogs.FullBackupSucceededId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            bicep.Modules["alerts"].Template.GetProperty("variables").GetProperty("fullBackupSucceededEventId").GetString());
        Assert.Contains("parameters('backupMaxAgeHours')", query, StringComparison.Ordinal);
        Assert.Equal(26, bicep.Modules["alerts"].Template.GetProperty("parameters").GetProperty("backupMaxAgeHours").GetProperty("defaultValue").GetInt32());
        Assert.Equal("GreaterThan", criterion.GetProperty("operator").GetString());
        Assert.Equal(0, criterion.GetProperty("threshold").GetInt32());
        Assert.Contains("actionGroups", p.GetProperty("actions").GetProperty("actionGroups")[0].GetString(), StringComparison.Ordinal);

        var failures = Assert.Single(rules, r => r.GetProperty("name").GetString()!.Contains("app-failures", StringComparison.Ordinal));
        var failureQuery = Props(failures).GetProperty("criteria").GetProperty("allOf")[0];
        Assert.Contains("SeverityLevel >= 3", failureQuery.GetProperty("query").GetString(), StringComparison.Ordinal);
        Assert.Equal("EventId", failureQuery.GetProperty("dimensions")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Http_5xx_and_the_health_availability_test_alert_through_the_action_group()
    {
        var metricAlerts = OfType("Microsoft.Insights/metricAlerts");
        var http = Assert.Single(metricAlerts, r => Props(r).GetProperty("criteria").GetProperty("odata.type").GetString() == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
            && Props(r).GetProperty("criteria").GetProperty("allOf")[0].GetProperty("metricName").GetString() == "Http5xx");
        var metric = Props(http).GetProperty("criteria").GetProperty("allOf")[0];
        Assert.Equal("Http5xx", metric.GetProperty("metricName").GetString());
        Assert.Equal("Microsoft.Web/sites", metric.GetProperty("metricNamespace").GetString());
        Assert.Contains("Microsoft.Web/sites", Props(http).GetProperty("scopes")[0].GetString(), StringComparison.Ordinal);

        var test = Assert.Single(OfType("Microsoft.Insights/webtests"));
        Assert.Equal("standard", test.GetProperty("kind").GetString());
        Assert.Contains("/api/health", Props(test).GetProperty("Request").GetProperty("RequestUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal(200, Props(test).GetProperty("ValidationRules").GetProperty("ExpectedHttpStatusCode").GetInt32());
        Assert.Contains("hidden-link:", test.GetProperty("tags").GetString(), StringComparison.Ordinal);
        var availability = Assert.Single(metricAlerts, r => Props(r).GetProperty("criteria").GetProperty("odata.type").GetString() == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria");
        Assert.Contains("webtests", Props(availability).GetProperty("criteria").GetProperty("webTestId").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Key_vault_both_backup_accounts_blob_services_and_the_function_app_send_diagnostics_to_the_workspace()
    {
        var settings = OfType("Microsoft.Insights/diagnosticSettings");
        Assert.Equal(3, settings.Count);
        Assert.All(settings, s => Assert.Contains("workspaceId", Props(s).GetProperty("workspaceId").GetString(), StringComparison.Ordinal));
        var scopes = settings.Select(s => s.GetProperty("scope").GetString()!).ToList();
        Assert.Contains(scopes, s => s.Contains("Microsoft.KeyVault/vaults", StringComparison.Ordinal));
        Assert.Contains(scopes, s => s.Contains("Microsoft.Web/sites", StringComparison.Ordinal));
        var blobs = Assert.Single(settings, s => s.GetProperty("scope").GetString()!.Contains("blobServices", StringComparison.Ordinal));
        Assert.Contains("parameters('backupAccountNames')", blobs.GetProperty("copy").GetProperty("count").GetString(), StringComparison.Ordinal);
        var accounts = bicep.Modules["alerts"].Deployment.GetProperty("properties").GetProperty("parameters").GetProperty("backupAccountNames").GetProperty("value").ToString();
        Assert.Contains("backup-storage'", accounts, StringComparison.Ordinal);
        Assert.Contains("backup-storage-secondary'", accounts, StringComparison.Ordinal);
        Assert.Equal(["StorageRead", "StorageWrite", "StorageDelete"], Props(blobs).GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("category").GetString()));
    }

    [Fact]
    public void Host_json_lets_successful_runs_reach_the_requests_table_unsampled()
    {
        var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "host.json"))).RootElement.GetProperty("logging");
        // Host.Results writes the requests table: at Error only failed runs were there, so the 02:00 backup never showed.
        Assert.Equal("Information", host.GetProperty("logLevel").GetProperty("Host.Results").GetString());
        var excluded = host.GetProperty("applicationInsights").GetProperty("samplingSettings").GetProperty("excludedTypes").GetString()!.Split(';');
        Assert.Contains("Request", excluded);
        Assert.Contains("Exception", excluded);
    }
}
