using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floyo.Functions.Timers;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.Core;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Functions.Tests.App;

/// <summary>What the Functions host will see: the built functions.metadata, the sample settings, and the Durable functions made from classes.</summary>
[Trait("Tier", "Fast")]
public sealed partial class FunctionMetadataTests
{
    private static JsonElement[] Functions()
    {
        // The Functions SDK writes functions.metadata beside the app's build output (this test project builds it first).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var path = Path.Combine(Fixtures.RepositoryRoot, "src", "Floyo.Functions", "bin", configuration, "net10.0", "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: build src/Floyo.Functions");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private static JsonElement SampleValues() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "local.settings.sample.json"))).RootElement.Clone();

    [Fact]
    public void Every_timer_reads_its_schedule_from_a_setting_whose_sample_default_is_the_plans()
    {
        var sample = SampleValues();
        var timers = Functions().Where(f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "timerTrigger")).ToList();

        Assert.Equal(Schedules.All.Select(s => s.Function).Order(), timers.Select(t => t.GetProperty("name").GetString()!).Order());
        foreach (var timer in timers)
        {
            var schedule = Schedules.All.Single(s => s.Function == timer.GetProperty("name").GetString());
            var binding = timer.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "timerTrigger");
            Assert.Equal($"%{schedule.Setting}%", binding.GetProperty("schedule").GetString());
            // The host needs the setting to exist; the sample supplies the plan's default.
            Assert.Equal(schedule.Default, sample.GetProperty("Values").GetProperty(schedule.Setting).GetString());
            Schedules.Parse(schedule.Default, schedule.Setting);
        }
        // Deployments supply them too: the Bicep module's defaults are the same.
        var bicep = File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "infra", "bicep", "modules", "schedule-settings.bicep"));
        var bicepDefaults = BicepParam().Matches(bicep).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
        var bicepNames = BicepSetting().Matches(bicep).ToDictionary(m => m.Groups[1].Value, m => bicepDefaults[m.Groups[2].Value], StringComparer.Ordinal);
        Assert.Equal(Schedules.All.ToDictionary(s => s.Setting, s => s.Default), bicepNames);
        Assert.Equal("0 0 2 * * *", Schedules.FullBackup.Default);
        Assert.Equal("0 0 */6 * * *", Schedules.IncrementalBackup.Default);
    }

    [Fact]
    public void No_http_trigger_is_anonymous()
    {
        var http = Functions().SelectMany(f => f.GetProperty("bindings").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "httpTrigger")).ToList();
        Assert.Equal(14, http.Count); // 10 + the four incident endpoints
        Assert.All(http, b => Assert.True(b.TryGetProperty("authLevel", out var level) && level.GetString() is "Function" or "Admin", $"{b} is not protected by a key"));
    }

    [Fact]
    public void The_sample_settings_list_and_explain_every_setting_the_code_reads()
    {
        var sample = SampleValues();
        var values = sample.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var comments = sample.GetProperty("_comments").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal);
        var read = Directory.EnumerateFiles(Path.Combine(Fixtures.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => SettingName().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .Concat(Schedules.All.Select(s => s.Setting))
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(read.Count > 20, $"only {read.Count} settings found");
        Assert.Empty(read.Except(values));
        Assert.DoesNotContain(values, v => !comments.TryGetValue(v, out var c) || string.IsNullOrWhiteSpace(c));
    }

    [Fact]
    public void Every_class_based_orchestrator_and_activity_becomes_a_function()
    {
        // The app's own composition, built but not run. At start-up the worker runs the extension start-ups its
        // build generated into the entry assembly (Durable's registers a metadata transformer), then the host
        // applies the transformers to add one function per registered class. Here the app is not the entry
        // assembly, so the test runs those start-ups the same way.
        var builder = FunctionsApplication.CreateBuilder([]);
        var info = typeof(FloyoFunctionsApp).Assembly.GetCustomAttribute<WorkerExtensionStartupCodeExecutorInfoAttribute>();
        Assert.NotNull(info);
        ((WorkerExtensionStartup)Activator.CreateInstance(info.StartupCodeExecutorType)!).Configure(builder);
        FloyoFunctionsApp.Configure(builder);
        using var host = builder.Build();
        var transformers = host.Services.GetServices<IFunctionMetadataTransformer>().ToList();
        Assert.NotEmpty(transformers);
        IList<IFunctionMetadata> functions = [];
        foreach (var transformer in transformers)
        {
            transformer.Transform(functions);
        }

        string? Trigger(string name) => functions.SingleOrDefault(f => f.Name == name)?.RawBindings?
            .Select(b => JsonDocument.Parse(b).RootElement.GetProperty("type").GetString()).FirstOrDefault(t => t!.EndsWith("Trigger", StringComparison.Ordinal));
        foreach (var orchestrator in DurableTaskRegistryExtensions.Orchestrators)
        {
            Assert.Equal("orchestrationTrigger", Trigger(orchestrator.Name));
        }
        foreach (var activity in DurableTaskRegistryExtensions.Activities)
        {
            Assert.Equal("activityTrigger", Trigger(activity.Name));
        }
        Assert.Equal(DurableTaskRegistryExtensions.Orchestrators.Count + DurableTaskRegistryExtensions.Activities.Count, functions.Count);
    }

    [GeneratedRegex("^param (\\w+) string = '([^']*)'", RegexOptions.Multiline)]
    private static partial Regex BicepParam();

    [GeneratedRegex("\\{ name: '(SCHEDULE_[A-Z_]+)', value: (\\w+) \\}")]
    private static partial Regex BicepSetting();

    [GeneratedRegex("(?:ConfigurationKeyName\\(\"|Configuration\\[\")([A-Z][A-Z0-9_]+)\"")]
    private static partial Regex SettingName();
}
