using System.Diagnostics;
using System.Text.Json;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;

namespace Floyo.Recovery.Tests.Drills;

/// <summary>The archive's health reaches the drill report: a broken archive_command is an RPO finding of the restore test, as in list and /api/health.</summary>
public sealed class DrillArchiveFindingsTests
{
    [Fact]
    public async Task The_restore_test_on_a_server_whose_archive_command_fails_reports_the_failing_archiver_as_an_rpo_finding()
    {
        var production = new ArchivedProduction();
        await production.InitializeAsync();
        var staging = $"staging_{Guid.NewGuid():N}"[..20];
        try
        {
            var cluster = production.Cluster;
            await cluster.SetAsync("archive_command", "false");
            await cluster.ExecuteAsync("CREATE TABLE churn AS SELECT generate_series(1, 1000) AS id");
            var closed = await cluster.ScalarAsync<string>("SELECT pg_walfile_name(pg_switch_wal())");
            var deadline = Stopwatch.StartNew();
            while (!await cluster.ScalarAsync<bool>("SELECT last_failed_wal IS NOT NULL FROM pg_stat_archiver"))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), "the archiver never failed");
                await Task.Delay(250);
            }
            var env = new Dictionary<string, string?>
            {
                ["BACKUP_STORE"] = "filesystem",
                ["BACKUP_DIR"] = cluster.Store,
                ["FLOYO_DR_COMMAND"] = cluster.Wrapper,
                ["DATABASE_URL"] = production.DatabaseUrl,
                ["STAGING_DATABASE_URL"] = TestServers.Url(TestServers.Alternate, staging),
            };

            var run = await FloyoDr.RunAsync(env, "drill", "--scenario", "restore-test", "--json");

            var report = JsonDocument.Parse(run.StdOut).RootElement;
            Assert.True(report.GetProperty("status").GetString() == "failed", run.All);
            Assert.NotEqual(0, run.ExitCode);
            // The restore itself worked: only the archive fails the drill.
            Assert.All(report.GetProperty("steps").EnumerateArray(), s => Assert.True(s.GetProperty("succeeded").GetBoolean(), s.ToString()));
            var finding = Assert.Single(report.GetProperty("rpoFindings").EnumerateArray()).GetString()!;
            Assert.StartsWith($"the server's archiver is failing: {closed} failed at ", finding, StringComparison.Ordinal);
            Assert.Contains(report.GetProperty("failures").EnumerateArray(), f => f.GetString() == $"RPO breached: the WAL archive is not healthy: {finding}");
            Assert.DoesNotContain(production.DatabaseUrl, run.All);

            // The stored Markdown report says so in its own section.
            var markdown = Directory.GetFiles(Path.Combine(cluster.Store, "reports", "drills"), "*.md").Single(f => f.Contains(report.GetProperty("id").GetString()!, StringComparison.Ordinal));
            var text = await File.ReadAllTextAsync(markdown);
            Assert.Contains("## RPO findings (WAL archive)", text);
            Assert.Contains($"- {finding}", text);
        }
        finally
        {
            await using (var admin = await PgConnector.OpenAsync(Postgres.DatabaseUrl.WithDatabase(TestServers.Alternate, "postgres"), default))
            {
                await PgConnector.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {staging} WITH (FORCE)", default);
            }
            await production.DisposeAsync();
        }
    }
}
