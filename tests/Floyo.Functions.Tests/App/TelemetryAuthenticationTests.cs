using Floyo.Functions.Telemetry;

namespace Floyo.Functions.Tests.App;

public sealed class TelemetryAuthenticationTests
{
    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData("ClientId=1b2c3d4e-0000-0000-0000-000000000001;Authorization=AAD", true, "1b2c3d4e-0000-0000-0000-000000000001")]
    [InlineData("Authorization=aad", true, null)]
    [InlineData(" Authorization = AAD ; ClientId = abc ", true, "abc")]
    [InlineData("", false, null)]
    [InlineData(null, false, null)]
    [InlineData("ClientId=abc", false, null)]
    [InlineData("Authorization=Key", false, null)]
    public void The_functions_hosts_setting_is_read_the_same_way_by_the_worker(string? value, bool entra, string? clientId) =>
        Assert.Equal((entra, clientId), TelemetryAuthentication.Parse(value));

    [Fact]
    [Trait("Tier", "Fast")]
    public void The_deployment_writes_the_setting_in_the_form_the_worker_reads()
    {
        var bicep = File.ReadAllText(Path.Combine(Floyo.Recovery.Tests.Support.Fixtures.RepositoryRoot, "infra", "bicep", "modules", "function-app.bicep"));
        Assert.Contains($"{TelemetryAuthentication.Setting}: 'ClientId=${{identityClientId}};Authorization=AAD'", bicep, StringComparison.Ordinal);
    }
}
