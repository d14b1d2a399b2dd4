using Floyo.Functions.Rotation;
using Floyo.Functions.Tests.Support;
using Floyo.Functions.Timers;
using Floyo.Recovery;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Floyo.Functions.Tests.Timers;

/// <summary>TIMERS_ENABLED: a cold standby's timers fire and start nothing; the failover runbook flips it.</summary>
public sealed class TimerSwitchTests
{
    private static IConfiguration Settings(string? value) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [TimerSwitch.Setting] = value }).Build();

    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData(" false ", false)]
    [InlineData("FALSE", false)]
    public void The_setting_is_on_unless_it_says_false(string? value, bool expected) =>
        Assert.Equal(expected, TimerSwitch.Enabled(Settings(value)));

    [Theory]
    [Trait("Tier", "Fast")]
    [InlineData("0")]
    [InlineData("no")]
    [InlineData("off")]
    public void Anything_else_is_a_configuration_error_naming_the_setting_never_a_silent_off(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => TimerSwitch.Enabled(Settings(value)));
        Assert.Contains("TIMERS_ENABLED", error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_timers_disabled_every_timer_fires_and_starts_nothing_in_the_task_hub()
    {
        await using var host = await WorkflowHost.StartAsync(new Dictionary<string, string?> { [TimerSwitch.Setting] = "false" });
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-10-01T02:00:00.050Z", System.Globalization.CultureInfo.InvariantCulture));
        var timers = new TimerFunctions(new ScheduledStarter(host.Configuration, clock, NullLogger<ScheduledStarter>.Instance));

        var backup = await timers.FullBackupAsync(new TimerInfo(), host.Client, default);
        var retention = await timers.RetentionCleanupAsync(new TimerInfo(), host.Client, default);
        var rotation = await new RotationTimer(new CredentialRotationStarter(clock, NullLogger<CredentialRotationStarter>.Instance), host.Configuration, NullLogger<RotationTimer>.Instance)
            .RunAsync(new TimerInfo(), host.Client, default);

        // The slot is still computed (so the log names the run the primary owns), but nothing is scheduled.
        Assert.Equal("full-backup-20261001T020000Z", backup.InstanceId);
        Assert.False(backup.Started);
        Assert.False(retention.Started);
        Assert.False(rotation.Started);
        Assert.Equal(RotationTimer.NotStartedStatus, rotation.Status);
        foreach (var id in new[] { backup.InstanceId, retention.InstanceId, CredentialRotationStarter.InstanceId })
        {
            Assert.Null(await host.Client.GetInstanceAsync(id, getInputsAndOutputs: false));
        }

        // The timers that work inline touch nothing either (no runner, no receiver: a call would throw).
        var checks = await new ChecksTimer(null!, null!, host.Configuration, clock).RunAsync(new TimerInfo(), default);
        Assert.Empty(checks.Results);
        var receive = await new WalReceiveTimer(null!, host.Configuration, NullLogger<WalReceiveTimer>.Instance).RunAsync(new TimerInfo(), default);
        Assert.Equal(Floyo.Recovery.Wal.ReceiveOutcome.NotConfigured, receive.Outcome);
    }

    [Fact]
    public async Task A_malformed_setting_fails_the_firing_loudly_instead_of_skipping_it()
    {
        await using var host = await WorkflowHost.StartAsync(new Dictionary<string, string?> { [TimerSwitch.Setting] = "maybe" });
        var timers = new TimerFunctions(new ScheduledStarter(host.Configuration, TimeProvider.System, NullLogger<ScheduledStarter>.Instance));
        await Assert.ThrowsAsync<ConfigurationException>(() => timers.FullBackupAsync(new TimerInfo(), host.Client, default));
    }
}
