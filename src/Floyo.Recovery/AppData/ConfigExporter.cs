using System.Text.Json;
using System.Text.Json.Nodes;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.AppData;

/// <summary>One exported setting: a value, or (for a secret) only where it comes from.</summary>
public sealed record ExportedSetting(string Name, string? Value, bool Secret, string? Reason, string? KeyVault, string? KeyVaultSecret);

public sealed record ConfigExport(int FormatVersion, DateTimeOffset Timestamp, string Machine, IReadOnlyList<ExportedSetting> Settings, IReadOnlyDictionary<string, string> Schedules, string? HostJsonPath, JsonNode? HostJson);

public sealed record ConfigExportResult(string Name, int Settings, int Secrets, int KeyVaultReferences, bool HostJson);

/// <summary>
/// Daily export of the application's configuration into the backup store: every setting's name, the
/// value of non-secret ones, the Key Vault secret a reference points at, the schedules and host.json.
/// Secret values never leave the process (see <see cref="SecretClassifier"/>).
/// </summary>
public sealed partial class ConfigExporter(IConfiguration configuration, IBackupStore store, IOptions<AppDataOptions> options, TimeProvider clock, ILogger<ConfigExporter> logger)
{
    public const string Prefix = "config/";

    /// <summary>Process and shell variables that describe the machine, not the application.</summary>
    private static readonly HashSet<string> MachineNoise = new(StringComparer.OrdinalIgnoreCase)
    {
        "PATH", "HOME", "PWD", "OLDPWD", "SHLVL", "TERM", "HOSTNAME", "USER", "LOGNAME", "SHELL", "_", "LS_COLORS", "MAIL",
        "LANG", "LANGUAGE", "DISPLAY", "TMPDIR", "TZ", "COLORTERM", "TERM_PROGRAM", "EDITOR", "PAGER", "LESSOPEN", "LESSCLOSE",
    };

    public ConfigExport Build()
    {
        var settings = new List<ExportedSetting>();
        var schedules = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration.AsEnumerable().Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (IsNoise(key))
            {
                continue;
            }
            var kind = SecretClassifier.Classify(key, value);
            settings.Add(kind.Kind switch
            {
                SettingKind.Plain => new ExportedSetting(key, value, false, null, null, null),
                SettingKind.KeyVaultReference => new ExportedSetting(key, null, true, kind.Reason, kind.Vault, kind.SecretName),
                _ => new ExportedSetting(key, null, true, kind.Reason, null, null),
            });
            if (kind.Kind == SettingKind.Plain && (key.Contains("SCHEDULE", StringComparison.OrdinalIgnoreCase) || key.Contains("CRON", StringComparison.OrdinalIgnoreCase)))
            {
                schedules[key] = value!;
            }
        }
        var hostJsonPath = FindHostJson();
        return new ConfigExport(1, clock.GetUtcNow(), Environment.MachineName, settings, schedules, hostJsonPath, hostJsonPath is null ? null : ReadHostJson(hostJsonPath));
    }

    public async Task<ConfigExportResult> ExportAsync(CancellationToken ct)
    {
        var export = Build();
        var name = $"{Prefix}{export.Timestamp.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.json";
        var retention = new ObjectRetention(export.Timestamp.AddDays(options.Value.ConfigRetentionDays));
        await store.WriteAllAsync(name, JsonSerializer.SerializeToUtf8Bytes(export, Json.Options), retention, ct);
        var result = new ConfigExportResult(name, export.Settings.Count, export.Settings.Count(s => s.Secret), export.Settings.Count(s => s.KeyVault is not null || s.KeyVaultSecret is not null), export.HostJson is not null);
        LogExported(logger, name, result.Settings, result.Secrets);
        return result;
    }

    private static bool IsNoise(string key) =>
        MachineNoise.Contains(key) || key.StartsWith("LC_", StringComparison.Ordinal) || key.StartsWith("SSH_", StringComparison.Ordinal)
        || key.StartsWith("XDG_", StringComparison.Ordinal);

    private string? FindHostJson()
    {
        if (options.Value.HostJsonPath is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : throw new ConfigurationException($"CONFIG_HOST_JSON points at {configured}, which does not exist");
        }
        var candidates = new[] { configuration["AzureWebJobsScriptRoot"], AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        return candidates.Where(d => !string.IsNullOrEmpty(d)).Select(d => Path.Combine(d!, "host.json")).FirstOrDefault(File.Exists);
    }

    /// <summary>host.json is configuration too: any string in it that looks like a credential is hidden the same way.</summary>
    private static JsonNode? ReadHostJson(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new RecoveryException($"{path} is not valid JSON: {e.Message}", e);
        }
        Redact(node, null);
        return node;
    }

    private static void Redact(JsonNode? node, string? name)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (child is JsonValue value && value.TryGetValue<string>(out var text) && SecretClassifier.Classify(key, text).Kind != SettingKind.Plain)
                    {
                        obj[key] = "[secret: not exported]";
                    }
                    else
                    {
                        Redact(child, key);
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text) && SecretClassifier.Classify(name ?? "", text).Kind != SettingKind.Plain)
                    {
                        array[i] = "[secret: not exported]";
                    }
                    else
                    {
                        Redact(array[i], name);
                    }
                }
                break;
        }
    }

    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Configuration exported to {Name}: {Settings} settings, {Secrets} secret (names only)")]
    private static partial void LogExported(ILogger logger, string name, int settings, int secrets);
}
