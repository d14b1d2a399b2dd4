using System.Text.Json;
using Floyo.Functions.Http;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Verification;
using Floyo.Recovery.Workflows.Models;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Floyo.Functions.Tests.Http.HttpFunctionTests;

namespace Floyo.Functions.Tests.Http;

public sealed class BreachHttpTests
{
    private static BreachFunctions Breaches(WorkflowHost host) => new(
        host.Services.GetRequiredService<BreachPreflight>(),
        host.Services.GetRequiredService<IBackupStore>(),
        host.Services.GetRequiredService<IOptions<BreachOptions>>(),
        TimeProvider.System,
        HttpFunctionTests.Principals(host),
        NullLogger<BreachFunctions>.Instance);

    private static Dictionary<string, string?> Settings(Scenario scenario) => scenario.Settings(
        ("BREACH_ISOLATE_ROLES", scenario.AppRole),
        ("BREACH_APPROVAL_TIMEOUT", "00:02:00"),
        ("BREACH_REMINDER_INTERVAL", "00:00:01"),
        ("FLOYO_SECRETS_FILE", Path.Combine(scenario.Folder.Path, "secrets.json")));

    private static async Task<int> BreachInstancesAsync(DurableTaskClient client)
    {
        var count = 0;
        await foreach (var _ in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = BreachFunctions.InstancePrefix }))
        {
            count++;
        }
        return count;
    }

    private static async Task<string> VerifiedBackupAsync(WorkflowHost host)
    {
        var taken = await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        var entry = await host.Services.GetRequiredService<BackupCatalog>().FindAsync(taken.Metadata.Name, default);
        Assert.True((await host.Services.GetRequiredService<BackupVerifier>().VerifyAsync(entry, null, default)).Passed);
        return entry.Name;
    }

    [Theory]
    [InlineData(null, "say who is asking")]
    [InlineData("", "the request body is empty")]
    [InlineData("""{"since":"2026-01-01T00:00:00Z","reason":"x","force":true}""", "unknown field 'force'")]
    [InlineData("""{"reason":"x"}""", "missing field 'since'")]
    [InlineData("""{"since":"last night","reason":"x"}""", "--since 'last night' is not a date and time")]
    [InlineData("""{"since":"2026-01-01 10:00","reason":"x"}""", "has no time zone")]
    [InlineData("""{"since":"2999-01-01T00:00:00Z","reason":"x"}""", "is in the future")]
    [InlineData("""{"since":"2020-01-01T00:00:00Z","reason":"x"}""", "there are no backups of")]
    [InlineData("""{"since":"2020-01-01T00:00:00Z","reason":"   "}""", "field 'reason' must say what was seen")]
    [InlineData("""{"since":"2020-01-01T00:00:00Z","reason":"x","drill":"yes"}""", "field 'drill' must be true or false")]
    public async Task A_bad_breach_request_gets_400_and_starts_nothing(string? body, string expected)
    {
        await using var scenario = await Scenario.CreateAsync(rows: 3);
        await using var host = await WorkflowHost.StartAsync(Settings(scenario));
        var request = body is null ? Request("POST", "{}", who: null) : Request("POST", body);

        var (status, json) = Read(await Breaches(host).StartAsync(request, host.Client, default));

        Assert.Equal(400, status);
        Assert.Contains(expected, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await BreachInstancesAsync(host.Client));
        Assert.True(await scenario.AppCanConnectAsync());
    }

    [Fact]
    public async Task A_breach_over_http_is_started_approved_by_someone_else_acknowledged_and_followed()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 20);
        await using var host = await WorkflowHost.StartAsync(Settings(scenario));
        var functions = Breaches(host);
        var backup = await VerifiedBackupAsync(host);
        // Backup names and --since both have one-second resolution: two seconds apart, the backup is surely before it.
        await Task.Delay(2100);
        await scenario.Database.ExecuteAsync("DELETE FROM items WHERE id > 5");
        var since = BreachSince.Format(DateTimeOffset.UtcNow.AddSeconds(-1));

        var start = Request("POST", $$"""{"since":"{{since}}","reason":"admin token found in a public repository"}""");
        var (status, body) = Read(await functions.StartAsync(start, host.Client, default));
        Assert.Equal(202, status);
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith(BreachFunctions.InstancePrefix, id, StringComparison.Ordinal);
        Assert.Equal(backup, body.GetProperty("cleanBackup").GetProperty("backup").GetString());
        Assert.Equal($"https://floyo-dr.example.net/api/breaches/{id}", body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal($"https://floyo-dr.example.net/api/breaches/{id}/approve", body.GetProperty("approvePostUri").GetString());
        Assert.Equal($"https://floyo-dr.example.net/api/breaches/{id}/gdpr-notified", body.GetProperty("gdprNotifiedPostUri").GetString());
        Assert.Equal(body.GetProperty("statusQueryGetUri").GetString(), start.HttpContext.Response.Headers.Location.ToString());

        // A second one while this one runs is refused.
        var (conflict, _) = Read(await functions.StartAsync(Request("POST", $$"""{"since":"{{since}}","reason":"again"}""", "carol"), host.Client, default));
        Assert.Equal(409, conflict);

        await host.WaitForStatusAsync(id, BreachStages.AwaitingApproval);
        var (getStatus, get) = Read(await functions.GetAsync(Request("GET"), id, host.Client, default));
        Assert.Equal(200, getStatus);
        Assert.Equal(BreachStages.AwaitingApproval, get.GetProperty("stage").GetString());
        Assert.Equal(backup, get.GetProperty("cleanBackup").GetProperty("backup").GetString());
        Assert.Equal("alice", get.GetProperty("request").GetProperty("requestedBy").GetString());
        Assert.False(await scenario.AppCanConnectAsync());
        Assert.StartsWith("GRANT CONNECT ON DATABASE", get.GetProperty("releaseSql").GetString(), StringComparison.Ordinal);

        var (early, _) = Read(await functions.GdprNotifiedAsync(Request("POST", "", "dana"), "breach-nope", host.Client, default));
        Assert.Equal(404, early);
        var (self, selfBody) = Read(await functions.ApproveAsync(Request("POST", "", "ALICE"), id, host.Client, default));
        Assert.Equal(403, self);
        Assert.Contains("cannot approve its restore", selfBody.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (badBody, _) = Read(await functions.ApproveAsync(Request("POST", "{\"approve\":true}", "bob"), id, host.Client, default));
        Assert.Equal(400, badBody);
        Assert.Equal(5, await scenario.CountItemsAsync());

        var (approved, approval) = Read(await functions.ApproveAsync(Request("POST", "{\"comment\":\"looked at the repository\"}", "bob"), id, host.Client, default));
        Assert.Equal(202, approved);
        Assert.Equal("bob", approval.GetProperty("approvedBy").GetString());

        // Recovered; the workflow now waits for the GDPR acknowledgement, and GET already shows the recorded report.
        await host.WaitForStatusAsync(id, BreachStages.AwaitingGdprNotification);
        Assert.Equal(20, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());
        var (_, waiting) = Read(await functions.GetAsync(Request("GET"), id, host.Client, default));
        Assert.Equal("Running", waiting.GetProperty("runtimeStatus").GetString());
        Assert.Equal("recovered", waiting.GetProperty("report").GetProperty("outcome").GetString());
        Assert.Equal(PostMortemWriter.NameFor(waiting.GetProperty("incidentId").GetString()!), waiting.GetProperty("postMortem").GetString());
        var (lateApproval, _) = Read(await functions.ApproveAsync(Request("POST", "", "erin"), id, host.Client, default));
        Assert.Equal(409, lateApproval);

        var (acknowledged, ack) = Read(await functions.GdprNotifiedAsync(Request("POST", "{\"comment\":\"reported to the authority, case 118\"}", "dana"), id, host.Client, default));
        Assert.Equal(202, acknowledged);
        Assert.Equal("dana", ack.GetProperty("acknowledgedBy").GetString());
        await host.WaitAsync(id);

        var (_, done) = Read(await functions.GetAsync(Request("GET"), id, host.Client, default));
        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        var report = done.GetProperty("report");
        Assert.Equal("recovered", report.GetProperty("outcome").GetString());
        Assert.Equal("bob", report.GetProperty("approvedBy").GetString());
        Assert.Equal("dana", report.GetProperty("gdpr").GetProperty("acknowledgedBy").GetString());
        Assert.Equal("reported to the authority, case 118", report.GetProperty("gdpr").GetProperty("comment").GetString());
        Assert.Equal("admin token found in a public repository", report.GetProperty("reason").GetString());
        // Nothing of the application's credentials is managed here: the workflow said so, and paged.
        Assert.Contains(report.GetProperty("timeline").EnumerateArray(), t => t.GetProperty("step").GetString() == "credential-not-managed");
        Assert.Contains(host.Logs.Entries, e => e.EventId == 6300 && e.Message.Contains("rotate the database credential by hand", StringComparison.Ordinal));

        var (again, _) = Read(await functions.GdprNotifiedAsync(Request("POST", "", "dana"), id, host.Client, default));
        Assert.Equal(409, again);
        var (missing, _) = Read(await functions.GetAsync(Request("GET"), "breach-nope", host.Client, default));
        Assert.Equal(404, missing);
        var (restoreId, _) = Read(await functions.GetAsync(Request("GET"), "restore-20260101T000000Z-abcd", host.Client, default));
        Assert.Equal(404, restoreId);
    }
}
