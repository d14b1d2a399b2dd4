using Floyo.Functions.Http;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Incidents;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Orchestrations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using static Floyo.Functions.Tests.Http.HttpFunctionTests;

namespace Floyo.Functions.Tests.Http;

/// <summary>POST /api/incidents and its update/resolve/get, on the in-process Durable host; Slack and the status page on a loopback listener.</summary>
[Trait("Tier", "Fast")]
public sealed class IncidentHttpTests
{
    private const string SlackPath = "services/T1/B2/incident-hook";
    private const string StatusPath = "v1/pages/p1/incidents";

    [Fact]
    public async Task An_incident_over_http_is_opened_updated_past_the_threshold_and_resolved_through_its_orchestration()
    {
        using var dir = new TempDirectory();
        await using var hooks = new WebhookRecorder();
        await using var host = await WorkflowHost.StartAsync(new Dictionary<string, string?>
        {
            ["BACKUP_DIR"] = dir.Path,
            ["ALLOW_DECLARED_OPERATOR"] = "true",
            ["NOTIFY_SLACK_WEBHOOK_URL"] = hooks.Url(SlackPath),
            ["INCIDENT_STATUSPAGE_URL"] = hooks.Url(StatusPath),
        });
        var functions = new IncidentFunctions(host.Services.GetRequiredService<IncidentBook>(), Principals(host));

        Assert.Equal(400, Read(await functions.OpenAsync(Request("POST", """{"title":"x","severity":"urgent"}"""), host.Client, default)).Status);
        Assert.Equal(400, Read(await functions.OpenAsync(Request("POST", """{"title":"x","force":true}"""), host.Client, default)).Status);
        var (anonymous, why) = Read(await functions.OpenAsync(Request("POST", """{"title":"x"}""", who: null), host.Client, default));
        Assert.Equal(400, anonymous);
        Assert.Contains("say who is asking", why.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(await host.Services.GetRequiredService<IncidentBook>().ListAsync(default));

        var (status, opened) = Read(await functions.OpenAsync(Request("POST", """{"title":"Primary database lost","stage":"assessing"}"""), host.Client, default));
        Assert.Equal(202, status);
        var id = opened.GetProperty("id").GetString()!;
        await hooks.WaitForAsync(SlackPath, p => p.Json.GetProperty("text").GetString()!.Contains("Incident opened: Primary database lost", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30));

        var (updated, _) = Read(await functions.UpdateAsync(Request("POST", """{"stage":"restoring","projectedRto":"6h"}""", who: "bob"), id, host.Client, default));
        Assert.Equal(200, updated);
        await hooks.WaitForAsync(StatusPath, p => p.Json.GetProperty("incident").GetProperty("status").GetString() == "identified", 1, TimeSpan.FromSeconds(30));

        Assert.Equal(400, Read(await functions.ResolveAsync(Request("POST", """{}"""), id, host.Client, default)).Status);
        Assert.Equal(200, Read(await functions.ResolveAsync(Request("POST", """{"message":"restored"}"""), id, host.Client, default)).Status);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await host.Client.WaitForInstanceCompletionAsync(IncidentCommunicationOrchestrator.InstanceIdFor(id), getInputsAndOutputs: true, wait.Token);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ErrorMessage);

        var (got, incident) = Read(await functions.GetAsync(Request("GET"), id, default));
        Assert.Equal(200, got);
        Assert.Equal("resolved", incident.GetProperty("status").GetString());
        Assert.Equal(IncidentBook.PostMortemName(id), incident.GetProperty("postMortem").GetString());
        Assert.Contains(incident.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.StartsWith("by bob: stage restoring", StringComparison.Ordinal));
        Assert.Equal(409, Read(await functions.UpdateAsync(Request("POST", """{"message":"late"}"""), id, host.Client, default)).Status);
        Assert.Equal(404, Read(await functions.GetAsync(Request("GET"), "incident-unknown", default)).Status);
    }
}
