using System.Reflection;
using System.Text;
using System.Text.Json;
using Floyo.Functions.Http;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Workflows.Models;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Functions.Tests.Http;

public sealed class HttpFunctionTests
{
    internal static RestoreFunctions Restores(WorkflowHost host) => new(
        host.Services.GetRequiredService<BackupCatalog>(),
        host.Services.GetRequiredService<IOptions<DatabaseOptions>>(),
        host.Services.GetRequiredService<IOptions<WorkflowOptions>>(),
        TimeProvider.System,
        Principals(host),
        NullLogger<RestoreFunctions>.Instance);

    /// <summary>Who is asking, by the host's settings as the app binds them (tests declare X-Floyo-Operator: ALLOW_DECLARED_OPERATOR=true).</summary>
    internal static RequestPrincipal Principals(WorkflowHost host) =>
        new(Options.Create(host.Configuration.Get<CallerOptions>() ?? new CallerOptions()));

    private static CatalogFunctions Catalog(WorkflowHost host, TimeProvider clock) => new(
        host.Services.GetRequiredService<BackupCatalog>(),
        new RpoCheck(host.Services.GetRequiredService<BackupCatalog>(), clock),
        host.Services.GetRequiredService<IOptions<DatabaseOptions>>(),
        host.Services.GetRequiredService<IOptions<RecoveryTargetOptions>>(),
        host.Services.GetRequiredService<Floyo.Recovery.Postgres.ClientToolCheck>());

    internal static HttpRequest Request(string method, string? body = null, string? who = "alice")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("floyo-dr.example.net");
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body ?? ""));
        if (who is not null)
        {
            context.Request.Headers[RequestPrincipal.OperatorHeader] = who;
        }
        return context.Request;
    }

    internal static (int Status, JsonElement Body) Read(IActionResult result)
    {
        var content = Assert.IsType<ContentResult>(result);
        Assert.StartsWith("application/json", content.ContentType, StringComparison.Ordinal);
        return (content.StatusCode!.Value, JsonDocument.Parse(content.Content!).RootElement.Clone());
    }

    internal static async Task<int> RestoreInstancesAsync(DurableTaskClient client)
    {
        var count = 0;
        await foreach (var _ in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = RestoreFunctions.InstancePrefix }))
        {
            count++;
        }
        return count;
    }

    [Fact]
    public async Task A_request_from_nobody_gets_400()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var result = await Restores(host).StartAsync(Request("POST", "{}", who: null), host.Client, default);
        var (status, json) = Read(result);
        Assert.Equal(400, status);
        Assert.Contains(RequestPrincipal.OperatorHeader, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await RestoreInstancesAsync(host.Client));
    }

    [Fact]
    public async Task A_restore_into_production_over_http_waits_for_a_second_person_then_runs()
    {
        await using var scenario = await Scenario.CreateAsync();
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var functions = Restores(host);
        var backup = (await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
        await scenario.Database.ExecuteAsync("DELETE FROM items WHERE id > 7");

        var start = Request("POST", $$"""{"backup":"{{backup}}","targetDatabase":"{{scenario.Database.Name}}","dropExisting":true,"reason":"incident 42: bad migration"}""");
        var (status, body) = Read(await functions.StartAsync(start, host.Client, default));

        Assert.Equal(202, status);
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith(RestoreFunctions.InstancePrefix, id, StringComparison.Ordinal);
        Assert.True(body.GetProperty("approvalRequired").GetBoolean());
        Assert.Equal($"https://floyo-dr.example.net/api/restores/{id}", body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal($"https://floyo-dr.example.net/api/restores/{id}/approve", body.GetProperty("approvePostUri").GetString());
        Assert.Equal(body.GetProperty("statusQueryGetUri").GetString(), start.HttpContext.Response.Headers.Location.ToString());

        // A second restore into the same database is refused while this one runs.
        var (conflict, _) = Read(await functions.StartAsync(Request("POST", $$"""{"backup":"{{backup}}","targetDatabase":"{{scenario.Database.Name}}","reason":"again"}""", "carol"), host.Client, default));
        Assert.Equal(409, conflict);

        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        var (getStatus, get) = Read(await functions.GetAsync(Request("GET"), id, host.Client, default));
        Assert.Equal(200, getStatus);
        Assert.Equal(RestoreStages.AwaitingApproval, get.GetProperty("stage").GetString());
        Assert.Equal("alice", get.GetProperty("request").GetProperty("requestedBy").GetString());

        var (self, selfBody) = Read(await functions.ApproveAsync(Request("POST", "", "Alice"), id, host.Client, default));
        Assert.Equal(403, self);
        Assert.Contains("cannot approve it", selfBody.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (badBody, _) = Read(await functions.ApproveAsync(Request("POST", "{\"approve\":true}", "bob"), id, host.Client, default));
        Assert.Equal(400, badBody);
        Assert.Equal(7, await scenario.CountItemsAsync());

        var (approved, approval) = Read(await functions.ApproveAsync(Request("POST", "{\"comment\":\"looked at the incident\"}", "bob"), id, host.Client, default));
        Assert.Equal(202, approved);
        Assert.Equal("bob", approval.GetProperty("approvedBy").GetString());
        await host.WaitAsync(id);

        var (doneStatus, done) = Read(await functions.GetAsync(Request("GET"), id, host.Client, default));
        Assert.Equal(200, doneStatus);
        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        var report = done.GetProperty("report");
        Assert.Equal("restored", report.GetProperty("outcome").GetString());
        Assert.Equal("bob", report.GetProperty("approvedBy").GetString());
        Assert.Equal("incident 42: bad migration", report.GetProperty("reason").GetString());
        Assert.True(report.GetProperty("durationSeconds").GetDouble() > 0);
        Assert.Equal(500, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());

        var (late, _) = Read(await functions.ApproveAsync(Request("POST", "", "dave"), id, host.Client, default));
        Assert.Equal(409, late);
        var (missing, _) = Read(await functions.GetAsync(Request("GET"), "restore-nope", host.Client, default));
        Assert.Equal(404, missing);
    }

    /// <summary>The extension's internal per-binding client (what [DurableClient] receives under the Functions host).</summary>
    internal static DurableTaskClient FunctionsBoundClient(DurableTaskClient inner, string queryString, string baseUrl)
    {
        var type = Type.GetType("Microsoft.Azure.Functions.Worker.FunctionsDurableTaskClient, Microsoft.Azure.Functions.Worker.Extensions.DurableTask", throwOnError: true)!;
        var constructors = type.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        var constructor = constructors.Single(c => c.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(DurableTaskClient));
        var args = constructor.GetParameters().Select(object? (p) => p.ParameterType == typeof(DurableTaskClient) ? inner
            : p.ParameterType != typeof(string) ? null
            : p.Name!.Contains("query", StringComparison.OrdinalIgnoreCase) ? queryString
            : p.Name.Contains("url", StringComparison.OrdinalIgnoreCase) ? baseUrl : null).ToArray();
        return (DurableTaskClient)constructor.Invoke(args);
    }

    [Fact]
    public async Task The_202_of_a_restore_hands_out_only_our_own_urls_never_durables_management_payload()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 3);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = (await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;

        // The client exactly as the Functions host binds it: with its webhook base URL and the system key's query string.
        var bound = FunctionsBoundClient(host.Client, "taskHub=floyo&connection=Storage&code=SYSTEM-KEY", "https://floyo-dr.example.net/runtime/webhooks/durabletask");
        var start = Request("POST", $$"""{"backup":"{{backup}}","targetDatabase":"{{scenario.Database.Name}}","dropExisting":true,"reason":"check the response"}""");
        var (status, body) = Read(await Restores(host).StartAsync(start, bound, default));

        Assert.Equal(202, status);
        // Durable's payload (sendEventPostUri, terminatePostUri, purgeHistoryDeleteUri ...) carries the extension's
        // system key: whoever reads it may raise the approval under any name. Not even an empty slot for it.
        Assert.Equal(
            ["approvalRequired", "approvalTimeout", "approvePostUri", "backup", "dropExisting", "id", "requestedBy", "statusQueryGetUri", "targetDatabase"],
            body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("SYSTEM-KEY", body.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("runtime/webhooks", body.GetRawText(), StringComparison.OrdinalIgnoreCase);
        await host.Client.TerminateInstanceAsync(body.GetProperty("id").GetString()!, "test over");
    }

    [Fact]
    public async Task A_forged_platform_identity_header_is_ignored_when_app_service_authentication_is_off()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 3);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var functions = Restores(host);
        var backup = (await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
        await scenario.Database.ExecuteAsync("DELETE FROM items");
        var (started, body) = Read(await functions.StartAsync(
            Request("POST", $$"""{"backup":"{{backup}}","targetDatabase":"{{scenario.Database.Name}}","dropExisting":true,"reason":"forgery test"}"""), host.Client, default));
        Assert.Equal(202, started);
        var id = body.GetProperty("id").GetString()!;
        await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);

        // Alice, the requester, claims to be bob through the header only App Service Authentication may set.
        var forged = Request("POST", "", "alice");
        forged.Headers["X-MS-CLIENT-PRINCIPAL-NAME"] = "bob";
        var (status, _) = Read(await functions.ApproveAsync(forged, id, host.Client, default));

        Assert.Equal(403, status);
        var state = await host.WaitForStatusAsync(id, RestoreStages.AwaitingApproval);
        Assert.False(state.IsCompleted);
        Assert.Equal(0, await scenario.CountItemsAsync());
        await host.Client.TerminateInstanceAsync(id, "test over");
    }

    [Fact]
    public async Task Health_compares_the_newest_verified_backup_with_the_rpo_target()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 3);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings(("RPO_TARGET", "00:30:00")));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var catalog = Catalog(host, clock);

        var (none, noneBody) = Read(await catalog.HealthAsync(Request("GET"), default));
        Assert.Equal(503, none);
        Assert.Contains("no verified backup", noneBody.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(BackupOrchestrator), new BackupWorkflowInput(BackupType.Full, true, "test", RetrySettings.Once));
        Assert.Equal(WorkflowOutcome.Succeeded, (await host.WaitAsync(id)).ReadOutputAs<BackupWorkflowResult>()!.Outcome);
        var (ok, okBody) = Read(await catalog.HealthAsync(Request("GET"), default));
        Assert.Equal(200, ok);
        Assert.Equal("healthy", okBody.GetProperty("status").GetString());
        Assert.Equal(1800, okBody.GetProperty("rpoTargetSeconds").GetDouble());

        clock.Advance(TimeSpan.FromMinutes(31));
        var (late, lateBody) = Read(await catalog.HealthAsync(Request("GET"), default));
        Assert.Equal(503, late);
        Assert.Equal("rpo-breached", lateBody.GetProperty("status").GetString());
        Assert.StartsWith("RPO breached", lateBody.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var (listStatus, list) = Read(await catalog.ListAsync(Request("GET"), default));
        Assert.Equal(200, listStatus);
        Assert.Equal(1, list.GetArrayLength());
        Assert.True(list[0].GetProperty("verified").GetBoolean());
    }
}
