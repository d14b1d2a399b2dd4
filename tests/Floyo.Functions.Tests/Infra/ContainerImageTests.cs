using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Tests.Infra;

/// <summary>
/// The Dockerfile, as far as a machine without a Docker engine can take it: its publish stage is run for real
/// (the same script), and the runtime stage's PG_BIN_DIR layout (the PostgreSQL project's Debian packages,
/// /usr/lib/postgresql/&lt;major&gt;/bin) is checked against what the app does with PG_BIN_DIR, on this machine's
/// own Debian-packaged PostgreSQL, which uses the same layout.
/// </summary>
public sealed partial class ContainerImageTests
{
    private static readonly string Root = Fixtures.RepositoryRoot;
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));

    private static string Arg(string name) => Regex.Match(Dockerfile, $@"^ARG {name}=(\S+)$", RegexOptions.Multiline) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException($"no ARG {name}");

    /// <summary>The image's PG_BIN_DIR with ${PG_MAJOR} left in.</summary>
    private static string PgBinDirTemplate => PgBinDirPattern().Match(Dockerfile).Groups[1].Value;

    [Fact]
    [Trait("Tier", "Fast")]
    public void The_runtime_stage_is_the_official_functions_image_for_the_apps_dotnet_with_client_tools_of_a_configurable_major()
    {
        var stages = Regex.Matches(Dockerfile, @"^FROM (\S+) AS (\w+)$", RegexOptions.Multiline).ToDictionary(m => m.Groups[2].Value, m => m.Groups[1].Value);
        var framework = typeof(ContainerImageTests).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false)
            .Cast<System.Runtime.Versioning.TargetFrameworkAttribute>().Single().FrameworkName.Replace(".NETCoreApp,Version=v", "", StringComparison.Ordinal);
        Assert.Equal($"mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated{framework}", stages["runtime"]);
        Assert.Equal($"mcr.microsoft.com/dotnet/sdk:{framework}", stages["publish"]);
        // The runtime stage is the last one: it is what docker build produces.
        Assert.EndsWith("runtime", Regex.Matches(Dockerfile, @"^FROM .* AS (\w+)$", RegexOptions.Multiline).Last().Groups[1].Value, StringComparison.Ordinal);

        Assert.Equal("17", Arg("PG_MAJOR"));
        Assert.Equal("/usr/lib/postgresql/${PG_MAJOR}/bin", PgBinDirTemplate);
        Assert.Contains("https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("\"postgresql-client-${PG_MAJOR}\"", Dockerfile, StringComparison.Ordinal);
        // The build fails unless every tool the app runs is where PG_BIN_DIR says.
        Assert.Contains("for tool in pg_dump pg_restore pg_basebackup psql; do \"/usr/lib/postgresql/${PG_MAJOR}/bin/${tool}\" --version; done", Dockerfile, StringComparison.Ordinal);

        // Non-root, so it listens on 8080, and the deployment sends traffic there.
        var user = Regex.Matches(Dockerfile, @"^USER (\S+)$", RegexOptions.Multiline).Last().Groups[1].Value;
        Assert.DoesNotMatch("^(root|0)(:.*)?$", user);
        Assert.Contains("ASPNETCORE_URLS=http://+:8080", Dockerfile, StringComparison.Ordinal);
        Assert.Contains("WEBSITES_PORT: '8080'", File.ReadAllText(Path.Combine(Root, "infra", "bicep", "modules", "function-app.bicep")), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void The_deployment_points_PG_BIN_DIR_at_the_images_tools_with_the_same_default_major()
    {
        var main = File.ReadAllText(Path.Combine(Root, "infra", "bicep", "main.bicep"));
        Assert.Matches($@"param pgMajor int = {Arg("PG_MAJOR")}\b", main);
        Assert.Contains("PG_BIN_DIR: isContainer ? '/usr/lib/postgresql/${pgMajor}/bin' : pgBinDir", main, StringComparison.Ordinal);
        Assert.Equal("/usr/lib/postgresql/${pgMajor}/bin", PgBinDirTemplate.Replace("${PG_MAJOR}", "${pgMajor}", StringComparison.Ordinal));
        // azd passes the same major as the build argument.
        Assert.Contains("PG_MAJOR=${FLOYO_PG_MAJOR=17}", File.ReadAllText(Path.Combine(Root, "azure.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public void The_build_context_keeps_what_the_publish_stage_needs()
    {
        Assert.Matches(@"(?m)^RUN scripts/publish-functions\.sh /app/publish$", Dockerfile);
        Assert.Contains("COPY --from=publish /app/publish /home/site/wwwroot", Dockerfile, StringComparison.Ordinal);
        var ignored = File.ReadAllLines(Path.Combine(Root, ".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var needed in new[] { "src/", "scripts/", "host.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.DoesNotContain(ignored, pattern => needed.StartsWith(pattern.TrimStart('/'), StringComparison.Ordinal));
        }
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
    }

    /// <summary>
    /// The app resolves each tool as PG_BIN_DIR/&lt;tool&gt; (PgTools). With PG_BIN_DIR built from the image's own
    /// template for this machine's Debian-packaged major, it finds all three and they report that major.
    /// </summary>
    [Fact]
    public async Task The_images_PG_BIN_DIR_layout_is_where_the_app_finds_pg_dump_pg_restore_and_pg_basebackup()
    {
        var majors = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.GetFileName(d)).Where(n => int.TryParse(n, out _)).ToList()
            : [];
        var major = Assert.Single(majors.Where(m => File.Exists($"/usr/lib/postgresql/{m}/bin/pg_dump")).Take(1));
        var tools = new PgTools(Options.Create(new DatabaseOptions { PgBinDir = PgBinDirTemplate.Replace("${PG_MAJOR}", major, StringComparison.Ordinal) }));
        foreach (var tool in new[] { "pg_dump", "pg_restore", "pg_basebackup" })
        {
            Assert.Equal($"/usr/lib/postgresql/{major}/bin/{tool}", tools.Locate(tool));
            Assert.Equal(int.Parse(major, System.Globalization.CultureInfo.InvariantCulture), (await tools.VersionAsync(tool, default)).Major);
        }
        // A major the image does not have is a clear configuration error, not a search elsewhere.
        var missing = new PgTools(Options.Create(new DatabaseOptions { PgBinDir = PgBinDirTemplate.Replace("${PG_MAJOR}", "99", StringComparison.Ordinal) }));
        Assert.Contains("PG_BIN_DIR", Assert.Throws<Floyo.Recovery.ConfigurationException>(() => missing.Locate("pg_dump")).Message, StringComparison.Ordinal);
    }

    /// <summary>The publish stage's one command, run here: a Release build of the Functions app with its metadata.</summary>
    [Fact]
    public async Task The_publish_stage_produces_a_functions_app_the_host_can_load()
    {
        var output = Path.Combine(Path.GetTempPath(), $"floyo-publish-{Guid.NewGuid():N}");
        try
        {
            var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
            info.ArgumentList.Add(Path.Combine(Root, "scripts", "publish-functions.sh"));
            info.ArgumentList.Add(output);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, await stdout + await stderr);

            foreach (var file in new[] { "Floyo.Functions.dll", "host.json", "worker.config.json", "functions.metadata", "Floyo.Recovery.dll" })
            {
                Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is not in the published app");
            }
            Assert.False(File.Exists(Path.Combine(output, "Floyo.Functions")), "no apphost: the host starts the worker with dotnet");
            Assert.False(File.Exists(Path.Combine(output, "local.settings.sample.json")));
            var worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "worker.config.json"))).RootElement.GetProperty("description");
            Assert.Equal("Floyo.Functions.dll", worker.GetProperty("defaultWorkerPath").GetString());
            var functions = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "functions.metadata"))).RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
            Assert.Contains("FullBackupTimer", functions);
            Assert.Contains("KeyVaultEvents", functions);
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [GeneratedRegex(@"PG_BIN_DIR=(\S+)")]
    private static partial Regex PgBinDirPattern();
}
