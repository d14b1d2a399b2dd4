using System.Diagnostics;
using System.Text.Json;
using Floyo.Functions.Tests.Support;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Functions.Tests.Cli;

/// <summary>floyo-dr's backup and restore run the orchestrations on the embedded Durable host; the approval rules at the command line.</summary>
public sealed class CliWorkflowTests
{
    [Fact]
    public async Task Backup_and_restore_run_as_workflows_and_a_required_approval_needs_a_second_name()
    {
        await using var scenario = await Scenario.CreateAsync(rows: 42);
        var env = scenario.Settings();

        var backup = await FloyoDr.RunAsync(env, "backup", "--full", "--verify", "--json");
        Assert.True(backup.ExitCode == 0, backup.All);
        var name = JsonDocument.Parse(backup.StdOut).RootElement.GetProperty("backup").GetProperty("name").GetString()!;
        Assert.True(JsonDocument.Parse(backup.StdOut).RootElement.GetProperty("verification").GetProperty("passed").GetBoolean());
        Assert.Single(Directory.GetFiles(Path.Combine(scenario.BackupDir, "runs", "backup")));
        await scenario.Database.ExecuteAsync("DELETE FROM items");

        // Approval required, no terminal, no --approve-as: refused at once, nothing touched.
        env["RESTORE_APPROVAL_REQUIRED"] = "true";
        var watch = Stopwatch.StartNew();
        var refused = await FloyoDr.RunAsync(env, "restore", "--file", name, "--drop-existing");
        Assert.Equal((int)Floyo.Recovery.ErrorKind.RefusedForSafety, refused.ExitCode);
        Assert.Equal("error: this restore needs a second person's approval (RESTORE_APPROVAL_REQUIRED): run it at a terminal or pass --approve-as <name>; nothing was changed", refused.StdErr.Trim());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(0, await scenario.CountItemsAsync());

        var self = await FloyoDr.RunAsync(env, "restore", "--file", name, "--drop-existing", "--approve-as", Environment.UserName);
        Assert.Equal((int)Floyo.Recovery.ErrorKind.RefusedForSafety, self.ExitCode);
        Assert.Contains("--approve-as must name someone other than you", self.StdErr, StringComparison.Ordinal);

        var restored = await FloyoDr.RunAsync(env, "restore", "--file", name, "--drop-existing", "--approve-as", "second-person", "--json");
        Assert.True(restored.ExitCode == 0, restored.All);
        var result = JsonDocument.Parse(restored.StdOut).RootElement;
        Assert.Equal(scenario.Database.Name, result.GetProperty("targetDatabase").GetString());
        Assert.True(result.GetProperty("replacedExisting").GetBoolean());
        Assert.Equal(42, await scenario.CountItemsAsync());
        Assert.True(await scenario.AppCanConnectAsync());
        var report = Directory.GetFiles(Path.Combine(scenario.BackupDir, "runs", "restore"))
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("result"))
            .Single(r => r.GetProperty("outcome").GetString() == "restored");
        Assert.Equal("second-person", report.GetProperty("approvedBy").GetString());
        Assert.Equal(Environment.UserName, report.GetProperty("requestedBy").GetString());
    }
}
