using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Backups;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Functions.Tests.Http;

/// <summary>One database, one backup and one host for all the bad requests: none of them may start anything.</summary>
public sealed class RestoreRequestWorld : IAsyncLifetime
{
    public Scenario Scenario { get; private set; } = null!;

    public WorkflowHost Host { get; private set; } = null!;

    public string Backup { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Scenario = await Scenario.CreateAsync(rows: 1);
        Host = await WorkflowHost.StartAsync(Scenario.Settings());
        Backup = (await Host.Services.GetRequiredService<FullBackupRunner>().RunAsync(null, default)).Metadata.Name;
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Scenario.DisposeAsync();
    }
}

public sealed class RestoreRequestValidationTests(RestoreRequestWorld world) : IClassFixture<RestoreRequestWorld>
{
    [Theory]
    [InlineData("{\"backup\": \"x\", ", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("", "the request body is empty")]
    [InlineData("{\"backup\":\"BACKUP\",\"targetDatabase\":\"TARGET\",\"reason\":\"r\",\"force\":true}", "unknown field 'force'")]
    [InlineData("{\"targetDatabase\":\"TARGET\",\"reason\":\"r\"}", "missing field 'backup'")]
    [InlineData("{\"backup\":\"BACKUP\",\"reason\":\"r\"}", "missing field 'targetDatabase'")]
    [InlineData("{\"backup\":\"BACKUP\",\"targetDatabase\":\"TARGET\"}", "missing field 'reason'")]
    [InlineData("{\"backup\":\"BACKUP\",\"targetDatabase\":\"TARGET\",\"reason\":\"  \"}", "field 'reason' must say why")]
    [InlineData("{\"backup\":\"BACKUP\",\"targetDatabase\":\"TARGET\",\"reason\":\"r\",\"dropExisting\":\"yes\"}", "field 'dropExisting' must be true or false")]
    [InlineData("{\"backup\":42,\"targetDatabase\":\"TARGET\",\"reason\":\"r\"}", "field 'backup' must be a string")]
    [InlineData("{\"backup\":\"BACKUP\",\"backup\":\"BACKUP\",\"targetDatabase\":\"TARGET\",\"reason\":\"r\"}", "given twice")]
    [InlineData("{\"backup\":\"../../etc/passwd\",\"targetDatabase\":\"TARGET\",\"reason\":\"r\"}", "points outside the backup store")]
    [InlineData("{\"backup\":\"nope_full_20260101_000000.dump.zst\",\"targetDatabase\":\"TARGET\",\"reason\":\"r\"}", "no complete backup named")]
    [InlineData("{\"backup\":\"BACKUP\",\"targetDatabase\":\"postgres\",\"reason\":\"r\"}", "refusing to restore into the system database")]
    [InlineData("{\"backup\":\"BACKUP\",\"targetDatabase\":\"\",\"reason\":\"r\"}", "is not a valid database name")]
    public async Task A_bad_restore_request_gets_400_and_starts_nothing(string body, string expected)
    {
        var host = world.Host;
        var body2 = body.Replace("BACKUP", world.Backup, StringComparison.Ordinal).Replace("TARGET", world.Scenario.Database.Name + "_copy", StringComparison.Ordinal);

        var result = await HttpFunctionTests.Restores(host).StartAsync(HttpFunctionTests.Request("POST", body2), host.Client, default);

        var (status, json) = HttpFunctionTests.Read(result);
        Assert.Equal(400, status);
        Assert.Contains(expected, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await HttpFunctionTests.RestoreInstancesAsync(host.Client));
    }

}
