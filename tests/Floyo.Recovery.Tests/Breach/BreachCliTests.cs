using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Breach;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Breach;

/// <summary>floyo-dr breach: the real binary running the breach workflow on its embedded Durable host.</summary>
public sealed class BreachCliTests
{
    private static async Task<(Dictionary<string, string?> Env, List<BackupEntry> Backups)> PrepareAsync(RotationScenario scenario)
    {
        await using (var engine = scenario.Engine(graceSeconds: 0))
        {
            await scenario.InitAsync(engine);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(), null, default);
        }
        var backups = await BreachTests.TakeBackupsAsync(scenario);
        await scenario.Database.ExecuteAsync("INSERT INTO notes (body) VALUES ('planted')");
        return (new Dictionary<string, string?>(scenario.Settings(0)) { ["BREACH_REMINDER_INTERVAL"] = "06:00:00" }, backups);
    }

    [Fact]
    public async Task Bad_requests_are_refused_at_once_and_isolate_nothing()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var (env, _) = await PrepareAsync(scenario);
        var acl = await BreachTests.AccessAsync(scenario);
        var watch = Stopwatch.StartNew();

        var garbage = await FloyoDr.RunAsync(env, "breach", "--since", "yesterday afternoon", "--approve-as", "bob");
        Cli.CliErrorTests.AssertOneLineError(garbage, "--since 'yesterday afternoon' is not a date and time");
        var noApprover = await FloyoDr.RunAsync(env, "breach", "--since", BreachTests.At(BreachTests.Day0.AddDays(1.5)));
        Cli.CliErrorTests.AssertOneLineError(noApprover, "a breach recovery restores only after a second person approves: run it at a terminal or pass --approve-as <name>; nothing was changed");
        var self = await FloyoDr.RunAsync(env, "breach", "--since", BreachTests.At(BreachTests.Day0.AddDays(1.5)), "--approve-as", Environment.UserName);
        Cli.CliErrorTests.AssertOneLineError(self, "--approve-as must name someone other than you");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");

        // Checked by the workflow's preflight: still one line, still nothing changed.
        var early = await FloyoDr.RunAsync(env, "breach", "--since", BreachTests.At(BreachTests.Day0.AddDays(-2)), "--approve-as", "bob");
        Cli.CliErrorTests.AssertOneLineError(early, $"--since {BreachTests.At(BreachTests.Day0.AddDays(-2))} is before every backup of '{scenario.Database.Name}'");
        Assert.Contains("nothing was changed", early.StdErr, StringComparison.Ordinal);
        Assert.Equal(acl, await BreachTests.AccessAsync(scenario));
        Assert.False(Directory.Exists(Path.Combine(scenario.BackupDir, "evidence")));
    }

    [Fact]
    public async Task A_breach_at_the_command_line_recovers_and_stops_at_the_gdpr_reminder_with_a_note()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var (env, backups) = await PrepareAsync(scenario);
        await using var reader = scenario.Engine(graceSeconds: 0);
        var compromised = await BreachTests.CurrentCredentialAsync(scenario, reader);

        var run = await FloyoDr.RunAsync(env, "breach", "--since", BreachTests.At(BreachTests.Day0.AddDays(1.5)), "--approve-as", "bob", "--reason", "keys on a paste site", "--json");

        Assert.True(run.ExitCode == 0, run.All);
        var report = JsonSerializer.Deserialize<BreachReport>(run.StdOut, Json.Options)!;
        Assert.Equal(BreachOutcome.Recovered, report.Outcome);
        Assert.Equal("bob", report.ApprovedBy);
        Assert.Equal(Environment.UserName, report.RequestedBy);
        Assert.Equal(backups[1].Name, report.Restored!.Backup);
        Assert.Null(report.Gdpr);
        Assert.Contains($"note: the GDPR notification to the supervisory authority is due by {BreachTests.At(report.NotifyBy)}", run.StdErr, StringComparison.Ordinal);
        Assert.Contains($"would remind at {BreachTests.At(report.StartedAt.AddHours(6))}", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(2L, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM notes"));
        var current = await BreachTests.CurrentCredentialAsync(scenario, reader);
        Assert.Null(await scenario.TryLoginAsync(current));
        Assert.Equal("28P01", await scenario.TryLoginAsync(compromised));
        Assert.True(File.Exists(Path.Combine(scenario.BackupDir, PostMortemWriter.NameFor(report.IncidentId))));
        Assert.True(Directory.EnumerateFiles(Path.Combine(scenario.BackupDir, "notifications")).Any());
        foreach (var secret in await scenario.AllSecretValuesAsync(scenario.Store(reader)))
        {
            Assert.DoesNotContain(secret, run.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_breach_drill_at_the_command_line_with_the_notification_acknowledged_completes_on_staging_only()
    {
        await using var scenario = await RotationScenario.CreateAsync();
        var (env, backups) = await PrepareAsync(scenario);
        var staging = scenario.Database.Name + "_stg";
        env["STAGING_DATABASE_URL"] = TestServers.Url(TestServers.Alternate, staging);
        var acl = await BreachTests.AccessAsync(scenario);
        try
        {
            // The staging database exists (empty here); the breach workflow restores production's clean backup into it.
            await using (var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"CREATE DATABASE {PgConnector.Quote(staging)}", default);
            }
            var run = await FloyoDr.RunAsync(env, "breach", "--drill", "--since", BreachTests.At(DateTimeOffset.UtcNow.AddMinutes(-1)), "--approve-as", "bob", "--gdpr-notified");

            Assert.True(run.ExitCode == 0, run.All);
            Assert.Contains("drill incident incident-", run.StdOut, StringComparison.Ordinal);
            Assert.Contains($"'{staging}' on {TestServers.Alternate.Host}:{TestServers.Alternate.Port} (staging, drill)", run.StdOut, StringComparison.Ordinal);
            Assert.Contains($"clean backup  {backups[1].Name}", run.StdOut, StringComparison.Ordinal);
            Assert.Contains($"acknowledged by {Environment.UserName}", run.StdOut, StringComparison.Ordinal);
            Assert.Contains("credentials   drill: named only", run.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain("note: the GDPR notification", run.StdErr, StringComparison.Ordinal);
            Assert.Equal(acl, await BreachTests.AccessAsync(scenario));
            Assert.Equal(4L, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM notes"));
        }
        finally
        {
            await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default);
            await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {PgConnector.Quote(staging)} WITH (FORCE)", default);
            foreach (var role in new[] { scenario.Blue, scenario.Green, scenario.Group })
            {
                await PgConnector.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {PgConnector.Quote(role)}", default);
            }
        }
    }
}
