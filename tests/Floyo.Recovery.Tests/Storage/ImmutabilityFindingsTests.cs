using Floyo.Recovery.Storage.Blob;

namespace Floyo.Recovery.Tests.Storage;

public sealed class ImmutabilityFindingsTests
{
    [Fact]
    [Trait("Tier", "Fast")]
    public void An_unlocked_policy_on_a_deployed_store_is_a_finding_naming_the_setting_and_the_fix()
    {
        var finding = Assert.Single(ImmutabilityFindings.For(ImmutabilityMode.Unlocked, serviceEndpoint: true, "BACKUP_SECONDARY_IMMUTABILITY_MODE"));
        Assert.Contains("BACKUP_SECONDARY_IMMUTABILITY_MODE=unlocked in production", finding, StringComparison.Ordinal);
        Assert.Contains("BACKUP_SECONDARY_IMMUTABILITY_MODE=locked", finding, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData(ImmutabilityMode.Locked, true)]
    [InlineData(ImmutabilityMode.Unlocked, false)]
    [InlineData(ImmutabilityMode.Off, true)]
    public void Locked_policies_and_local_stores_have_no_such_finding(ImmutabilityMode mode, bool serviceEndpoint) =>
        // Off is not a finding but a failed step of its own (ImmutabilityProbe).
        Assert.Empty(ImmutabilityFindings.For(mode, serviceEndpoint));
}
