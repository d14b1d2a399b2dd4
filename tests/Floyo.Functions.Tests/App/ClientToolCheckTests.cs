using Floyo.Functions.Http;
using Floyo.Functions.Startup;
using Floyo.Functions.Tests.Support;
using Floyo.Functions.Tests.Http;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Tests.App;

/// <summary>
/// Start-up truth about pg_dump/pg_restore/pg_basebackup against the real PostgreSQL 15 server: /api/health and the
/// start-up log name a missing tool and a tool older than the server; the real tools are healthy.
/// </summary>
public sealed class ClientToolCheckTests
{
    private static string Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).First(File.Exists);

    /// <summary>A PG_BIN_DIR with the real tools linked in, except those <paramref name="fake"/> replaces (null: absent).</summary>
    private static string BinDir(string root, string name, IReadOnlyDictionary<string, string?> fake)
    {
        var dir = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        foreach (var tool in ClientToolCheck.Required)
        {
            if (!fake.TryGetValue(tool, out var script))
            {
                File.CreateSymbolicLink(Path.Combine(dir, tool), Which(tool));
            }
            else if (script is not null)
            {
                var path = Path.Combine(dir, tool);
                File.WriteAllText(path, $"#!/bin/sh\n{script}\n");
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        return dir;
    }

    private static ClientToolCheck Check(WorkflowHost host, string? binDir, ILogger<ClientToolCheck>? logger = null) => new(
        new PgTools(Options.Create(new DatabaseOptions { PgBinDir = binDir })),
        host.Services.GetRequiredService<DatabaseConnections>(),
        logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<ClientToolCheck>.Instance);

    private static CatalogFunctions Catalog(WorkflowHost host, ClientToolCheck tools) => new(
        host.Services.GetRequiredService<BackupCatalog>(),
        new RpoCheck(host.Services.GetRequiredService<BackupCatalog>(), TimeProvider.System),
        host.Services.GetRequiredService<IOptions<DatabaseOptions>>(),
        host.Services.GetRequiredService<IOptions<RecoveryTargetOptions>>(),
        tools);

    [Fact]
    public async Task Health_and_the_start_up_log_name_a_missing_tool_and_a_pg_dump_older_than_the_server()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 3);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        // A fresh verified backup: the RPO is met, so whatever health finds is the tools'.
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BackupOrchestrator), new BackupWorkflowInput(BackupType.Full, true, "test", RetrySettings.Once));
        Assert.Equal(WorkflowOutcome.Succeeded, (await host.WaitAsync(id)).ReadOutputAs<BackupWorkflowResult>()!.Outcome);

        // Healthy: the real PostgreSQL 15 tools against the real 15 server.
        var (ok, okBody) = HttpFunctionTests.Read(await Catalog(host, Check(host, BinDir(scenario.Folder.Path, "real", new Dictionary<string, string?>()))).HealthAsync(HttpFunctionTests.Request("GET"), default));
        Assert.True(ok == 200, okBody.ToString());
        Assert.Equal("healthy", okBody.GetProperty("status").GetString());
        Assert.Equal(0, okBody.GetProperty("findings").GetArrayLength());
        var tools = okBody.GetProperty("clientTools");
        Assert.True(tools.GetProperty("ready").GetBoolean());
        Assert.Equal(15, tools.GetProperty("serverMajor").GetInt32());
        Assert.Equal(["pg_dump", "pg_restore", "pg_basebackup"], tools.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("tool").GetString()!));
        Assert.All(tools.GetProperty("tools").EnumerateArray(), t => Assert.StartsWith("15.", t.GetProperty("version").GetString(), StringComparison.Ordinal));

        // Missing: pg_basebackup is not in PG_BIN_DIR.
        var missingDir = BinDir(scenario.Folder.Path, "missing", new Dictionary<string, string?> { ["pg_basebackup"] = null });
        var (missing, missingBody) = HttpFunctionTests.Read(await Catalog(host, Check(host, missingDir)).HealthAsync(HttpFunctionTests.Request("GET"), default));
        Assert.Equal(503, missing);
        Assert.Equal("tools-unfit", missingBody.GetProperty("status").GetString());
        Assert.Equal($"pg_basebackup not found in PG_BIN_DIR ({missingDir}): install the PostgreSQL client tools", Assert.Single(missingBody.GetProperty("findings").EnumerateArray()).GetString());

        // Too old: a pg_dump that says it is 12.0, against the 15 server.
        var oldDir = BinDir(scenario.Folder.Path, "old", new Dictionary<string, string?> { ["pg_dump"] = "echo 'pg_dump (PostgreSQL) 12.0'" });
        var (old, oldBody) = HttpFunctionTests.Read(await Catalog(host, Check(host, oldDir)).HealthAsync(HttpFunctionTests.Request("GET"), default));
        Assert.Equal(503, old);
        Assert.StartsWith("pg_dump is version 12.0 but the server is version 15: install the PostgreSQL 15 client tools",
            Assert.Single(oldBody.GetProperty("findings").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Equal("12.0", oldBody.GetProperty("clientTools").GetProperty("tools")[0].GetProperty("version").GetString());

        // At start-up the same finding is a warning in the log; the app starts anyway.
        using var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var startup = new ClientToolStartupCheck(Check(host, oldDir, factory.CreateLogger<ClientToolCheck>()));
        await startup.StartAsync(default);
        var report = await startup.Completed.WaitAsync(TimeSpan.FromMinutes(1));
        await startup.StopAsync(default);
        Assert.False(report!.Ready);
        var warning = Assert.Single(logs.Entries, e => e.EventId == 9500);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("pg_dump is version 12.0 but the server is version 15", warning.Message, StringComparison.Ordinal);

        // And the real tools log that they are fit, with no warning.
        using var goodLogs = new CapturedLogs();
        using var goodFactory = LoggerFactory.Create(b => b.AddProvider(goodLogs).SetMinimumLevel(LogLevel.Trace));
        var good = new ClientToolStartupCheck(Check(host, BinDir(scenario.Folder.Path, "real2", new Dictionary<string, string?>()), goodFactory.CreateLogger<ClientToolCheck>()));
        await good.StartAsync(default);
        Assert.True((await good.Completed.WaitAsync(TimeSpan.FromMinutes(1)))!.Ready);
        await good.StopAsync(default);
        Assert.DoesNotContain(goodLogs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Contains(goodLogs.Entries, e => e.EventId == 9502 && e.Message.Contains("server major 15", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void The_app_runs_the_tool_check_at_start_up()
    {
        // The descriptors, not the built services: resolving every hosted service would start the worker's gRPC client.
        var builder = Microsoft.Azure.Functions.Worker.Builder.FunctionsApplication.CreateBuilder([]);
        FloyoFunctionsApp.Configure(builder);
        Assert.Single(builder.Services, d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService) && d.ImplementationType == typeof(ClientToolStartupCheck));
    }
}
