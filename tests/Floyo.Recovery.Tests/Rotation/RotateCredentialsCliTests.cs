using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Rotation;

/// <summary>floyo-dr rotate-credentials runs the rotation workflow on its embedded Durable host (the grace period is a durable timer).</summary>
public sealed class RotateCredentialsCliTests
{
    [Fact]
    public async Task Rotate_credentials_says_why_it_waits_then_retires_the_previous_login()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var env = scenario.Settings(graceSeconds: 2);
        var init = await FloyoDr.RunAsync(env, "credentials", "init");
        Assert.True(init.ExitCode == 0, init.All);
        await scenario.GrantAsync();
        await using var engine = scenario.Engine(graceSeconds: 2);
        var store = scenario.Store(engine);
        var (_, original) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        await store.SetAsync("partner-credential", "given-by-partner-123", new Dictionary<string, string> { [SecretTags.Rotation] = "partner-portal" }, null, default);

        var clock = Stopwatch.StartNew();
        var rotate = await FloyoDr.RunAsync(env, "rotate-credentials");
        clock.Stop();

        Assert.True(rotate.ExitCode == 0, rotate.All);
        Assert.Contains("of grace before they are retired (safe to interrupt: rerun to finish)", rotate.StdErr, StringComparison.Ordinal);
        Assert.Contains($"rotated {RotationScenario.Secret}: version ", rotate.StdOut, StringComparison.Ordinal);
        Assert.Contains($"role {scenario.Green} active, {scenario.Blue} retired", rotate.StdOut, StringComparison.Ordinal);
        Assert.Contains("skipped partner-credential (floyo-rotation=partner-portal is not handled here)", rotate.StdOut, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"the grace period was not waited out ({clock.Elapsed})");
        var (version, current) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        Assert.Equal(SecretTags.StateComplete, version.Tag(SecretTags.RotationState));
        Assert.Null(await scenario.TryLoginAsync(current));
        Assert.Equal("28P01", await scenario.TryLoginAsync(original));

        // --json keeps its shape: the rotation id, what was rotated, what was skipped.
        var json = await FloyoDr.RunAsync(env, "rotate-credentials", "--only", "database", "--json");
        Assert.True(json.ExitCode == 0, json.All);
        var report = JsonDocument.Parse(json.StdOut).RootElement;
        Assert.StartsWith("rot-", report.GetProperty("rotationId").GetString(), StringComparison.Ordinal);
        Assert.Equal(scenario.Blue, Assert.Single(report.GetProperty("rotated").EnumerateArray()).GetProperty("role").GetString());
        Assert.Empty(report.GetProperty("skipped").EnumerateArray());
    }

    [Fact]
    public async Task A_step_that_cannot_succeed_fails_at_once_with_its_own_message()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var env = scenario.Settings(graceSeconds: 0);

        var clock = Stopwatch.StartNew();
        var rotate = await FloyoDr.RunAsync(env, "rotate-credentials", "--only", "database");
        clock.Stop();

        Assert.Equal((int)ErrorKind.NotFound, rotate.ExitCode);
        // One line, the step's own words: not the workflow framework's wrapper, and no transient-failure retries.
        Assert.Equal($"error: login role '{scenario.Blue}' does not exist: run 'floyo-dr credentials init' first", rotate.StdErr.Trim());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"a permanent failure was retried ({clock.Elapsed})");
        await using var engine = scenario.Engine(graceSeconds: 0);
        Assert.Null(await scenario.Store(engine).GetCurrentAsync(RotationScenario.Secret, default));
    }
}
