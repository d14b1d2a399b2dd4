using System.Text;
using System.Text.Json;
using Floyo.Recovery.AppData;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.AppData;

public sealed class ConfigExportTests
{
    [Trait("Tier", "Fast")]
    [Theory]
    [InlineData("DB_PASSWORD", "hunter2")]
    [InlineData("API_KEY", "x")]
    [InlineData("Storage__AccountKey", "x")]
    [InlineData("JWT_SIGNING_SECRET", "x")]
    [InlineData("GITHUB_TOKEN", "x")]
    [InlineData("BACKUP_BLOB_CONNECTION_STRING", "UseDevelopmentStorage=true")]
    [InlineData("ConnectionStrings:Main", "Host=db;Username=app")]
    [InlineData("DATABASE_URL", "postgresql://app:s3cr3t@db:5432/floyo")]
    [InlineData("UPSTREAM", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc123==;")]
    [InlineData("FEED", "https://acct.blob.core.windows.net/c?sv=2024-01-01&sig=abcDEF123%3D")]
    [InlineData("SERVICE_BEARER", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")]
    [InlineData("WEBHOOK", "q8Zt3LmP0vXy7RkW2nBc5HdJ")]
    [InlineData("TLS", "-----BEGIN PRIVATE KEY-----\nMIIB...")]
    public void Secrets_are_recognised_by_name_or_by_value(string name, string value) =>
        Assert.Equal(SettingKind.Secret, SecretClassifier.Classify(name, value).Kind);

    [Trait("Tier", "Fast")]
    [Theory]
    [InlineData("BACKUP_RETENTION_DAYS", "30")]
    [InlineData("BACKUP_STORE", "blob")]
    [InlineData("BACKUP_BLOB_SERVICE_URI", "https://floyodr.blob.core.windows.net")]
    [InlineData("BACKUP_FULL_SCHEDULE", "0 0 2 * * *")]
    [InlineData("FLOYO_WORK_DIR", "/var/lib/floyo-dr/work")]
    [InlineData("WEBSITE_INSTANCE_ID", "6f1b8c34-3b7e-4b7e-9a4e-2b1f0c9d8e7a")]
    [InlineData("MONKEYPATCH_LEVEL", "2")]
    [InlineData("RESTORE_JOBS", "4")]
    public void Ordinary_settings_keep_their_values(string name, string value) =>
        Assert.Equal(SettingKind.Plain, SecretClassifier.Classify(name, value).Kind);

    [Trait("Tier", "Fast")]
    [Fact]
    public void Key_Vault_references_name_the_vault_and_secret_they_come_from()
    {
        var byUri = SecretClassifier.Classify("PAGERDUTY_ROUTING", "@Microsoft.KeyVault(SecretUri=https://floyo-kv.vault.azure.net/secrets/pagerduty-routing/0123abcd)");
        Assert.Equal((SettingKind.KeyVaultReference, "floyo-kv", "pagerduty-routing"), (byUri.Kind, byUri.Vault, byUri.SecretName));
        var byName = SecretClassifier.Classify("SLACK_WEBHOOK", "@Microsoft.KeyVault(VaultName=floyo-kv;SecretName=slack-webhook)");
        Assert.Equal((SettingKind.KeyVaultReference, "floyo-kv", "slack-webhook"), (byName.Kind, byName.Vault, byName.SecretName));
    }

    [Trait("Tier", "Fast")]
    [Fact]
    public async Task The_export_holds_names_plain_values_schedules_and_host_json_but_no_secret_value()
    {
        using var dir = new TempDirectory();
        var hostJson = Path.Combine(dir.Path, "host.json");
        await File.WriteAllTextAsync(hostJson, """{ "version": "2.0", "functionTimeout": "02:00:00", "extensions": { "custom": { "apiKey": "Zq8t3LmP0vXy7RkW2nBc5HdJ" } } }""");
        string[] secrets = ["p4ssw0rd-value", "abc123==", "s3cr3t", "Zq8t3LmP0vXy7RkW2nBc5HdJ", "tok-9f8e7d6c5b4a"];
        var settings = new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = Path.Combine(dir.Path, "backups"),
            ["CONFIG_HOST_JSON"] = hostJson,
            ["BACKUP_RETENTION_DAYS"] = "30",
            ["BACKUP_FULL_SCHEDULE"] = "0 0 2 * * *",
            ["SMTP_PASSWORD"] = secrets[0],
            ["UPSTREAM_STORAGE"] = $"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={secrets[1]};",
            ["DATABASE_URL"] = $"postgresql://app:{secrets[2]}@db:5432/floyo",
            ["SLACK_TOKEN"] = secrets[4],
            ["PAGERDUTY_ROUTING"] = "@Microsoft.KeyVault(SecretUri=https://floyo-kv.vault.azure.net/secrets/pagerduty-routing/)",
        };
        await using var engine = Engine.Create(settings);
        var result = await engine.GetRequiredService<ConfigExporter>().ExportAsync(default);

        Assert.True(result.HostJson);
        Assert.Equal(1, result.KeyVaultReferences);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(dir.Path, "backups", result.Name));
        var text = Encoding.UTF8.GetString(bytes);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text);
        }
        var export = JsonSerializer.Deserialize<ConfigExport>(bytes, Floyo.Recovery.Backups.Json.Options)!;
        var byName = export.Settings.ToDictionary(s => s.Name);
        Assert.Equal("30", byName["BACKUP_RETENTION_DAYS"].Value);
        Assert.True(byName["SMTP_PASSWORD"].Secret);
        Assert.Null(byName["SMTP_PASSWORD"].Value);
        Assert.True(byName["DATABASE_URL"].Secret);
        Assert.Equal(("floyo-kv", "pagerduty-routing"), (byName["PAGERDUTY_ROUTING"].KeyVault, byName["PAGERDUTY_ROUTING"].KeyVaultSecret));
        Assert.Equal("0 0 2 * * *", export.Schedules["BACKUP_FULL_SCHEDULE"]);
        Assert.Equal("02:00:00", export.HostJson!["functionTimeout"]!.GetValue<string>());
    }

    [Fact]
    public async Task Floyo_dr_config_export_never_writes_a_secret_from_its_environment()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = dir.Path,
            ["FLOYO_ALERT_EMAIL_PASSWORD"] = "correct-horse-battery",
            ["DATABASE_URL"] = "postgresql://floyo:very-secret-pw@db.internal:5432/floyo",
            ["BACKUP_FULL_SCHEDULE"] = "0 0 2 * * *",
        };
        var run = await FloyoDr.RunAsync(env, "config", "export");
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("configuration exported to config/", run.StdOut);
        var file = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "config")));
        var text = await File.ReadAllTextAsync(file);
        Assert.Contains("FLOYO_ALERT_EMAIL_PASSWORD", text);
        Assert.DoesNotContain("correct-horse-battery", text);
        Assert.DoesNotContain("very-secret-pw", text);
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("FLOYO_TEST_PG_URL") ?? "<unset>", text);
        Assert.Contains("0 0 2 * * *", text);
    }
}
