using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Functions.Tests.Http;

/// <summary>Issue 10, item 1 over HTTP: a targetDatabase that libpq would read as a connection string.</summary>
public sealed class RestoreTargetNameTests
{
    [Fact]
    public async Task A_target_database_that_reads_as_a_connection_string_gets_400_and_no_credentials_leave()
    {
        await using var listener = FakePostgresListener.Start();
        await using var scenario = await Scenario.CreateAsync(rows: 1);
        await using var host = await WorkflowHost.StartAsync(scenario.Settings());
        var backup = (await host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
        var body = $$"""{"backup":"{{backup}}","targetDatabase":"host=127.0.0.1 port={{listener.Port}} dbname=","reason":"incident 7"}""";

        var (status, json) = HttpFunctionTests.Read(await HttpFunctionTests.Restores(host).StartAsync(HttpFunctionTests.Request("POST", body), host.Client, default));
        if (status == 202)
        {
            // Accepted: let the restore run as far as it gets, to see where the admin's credentials went.
            await host.WaitAsync(json.GetProperty("id").GetString()!);
        }

        Assert.True(listener.Contacts.IsEmpty, $"the listener named in targetDatabase received {listener.Describe()}");
        Assert.Equal(400, status);
        Assert.Contains("is not a valid database name: it contains '='", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await HttpFunctionTests.RestoreInstancesAsync(host.Client));
    }
}
