using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Floyo.Recovery.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Postgres;

/// <summary>
/// Finds and starts the PostgreSQL client programs. Credentials travel in the child's environment
/// (PGPASSWORD), never on its command line where <c>ps</c> would show them.
/// </summary>
public sealed partial class PgTools(IOptions<DatabaseOptions> options)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Major, string Full)> _versions = new(StringComparer.Ordinal);

    public string Locate(string tool)
    {
        var dir = options.Value.PgBinDir;
        if (!string.IsNullOrEmpty(dir))
        {
            var candidate = Path.Combine(dir, tool);
            return File.Exists(candidate)
                ? candidate
                : throw new ConfigurationException($"{tool} not found in PG_BIN_DIR ({dir}): install the PostgreSQL client tools");
        }
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new ConfigurationException($"{tool} not found on PATH: install the PostgreSQL client tools (for example the postgresql-client package) or set PG_BIN_DIR");
    }

    /// <summary>The major version a client tool reports, e.g. 15 for "pg_dump (PostgreSQL) 15.18".</summary>
    public async Task<(int Major, string Full)> VersionAsync(string tool, CancellationToken ct)
    {
        // Asked before every run; a binary does not change version while this process lives.
        var path = Locate(tool);
        if (_versions.TryGetValue(path, out var known))
        {
            return known;
        }
        var result = await RunAsync(tool, ["--version"], connection: null, ct);
        var match = VersionPattern().Match(result.StdOut);
        if (result.ExitCode != 0 || !match.Success)
        {
            // A tool that cannot say its version is a broken installation: configuration, not a passing failure.
            throw new ConfigurationException($"{tool} --version failed (exit {result.ExitCode}): {FirstLine(result.StdErr + result.StdOut)}");
        }
        return _versions[path] = (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[0].Value);
    }

    /// <summary>Refuses a client older than the server: it could not dump newer catalogs correctly.</summary>
    public async Task<string> EnsureCompatibleAsync(string tool, int serverVersionNum, CancellationToken ct)
    {
        var (major, full) = await VersionAsync(tool, ct);
        var serverMajor = serverVersionNum / 10000;
        if (major < serverMajor)
        {
            throw new ConfigurationException(TooOld(tool, VersionNumber(full), serverMajor));
        }
        return full;
    }

    /// <summary>The one wording of "too old", naming the tool, its version and the server's major.</summary>
    public static string TooOld(string tool, string version, int serverMajor) =>
        $"{tool} is version {version} but the server is version {serverMajor}: install the PostgreSQL {serverMajor} client tools (or newer) or set PG_BIN_DIR";

    /// <summary>"15.18" from "(PostgreSQL) 15.18".</summary>
    public static string VersionNumber(string full) => full.Replace("(PostgreSQL)", "", StringComparison.Ordinal).Trim();

    /// <summary>
    /// pg_restore's argument for "restore into the database of PGDATABASE": libpq ignores an empty dbname and
    /// falls back to the environment, where a name is only ever a name.
    /// </summary>
    public const string DatabaseFromEnvironment = "--dbname=";

    public ProcessStartInfo StartInfo(string tool, IEnumerable<string> arguments, NpgsqlConnectionStringBuilder? connection)
    {
        var info = new ProcessStartInfo(Locate(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // Start from a clean libpq environment so a stray PGDATABASE or PGSERVICE cannot redirect us.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        if (connection is not null)
        {
            info.Environment["PGHOST"] = connection.Host;
            info.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["PGDATABASE"] = connection.Database;
            if (!string.IsNullOrEmpty(connection.Username))
            {
                info.Environment["PGUSER"] = connection.Username;
            }
            if (!string.IsNullOrEmpty(connection.Password))
            {
                info.Environment["PGPASSWORD"] = connection.Password;
            }
            info.Environment["PGSSLMODE"] = connection.SslMode switch
            {
                SslMode.Disable => "disable",
                SslMode.Allow => "allow",
                SslMode.Require => "require",
                SslMode.VerifyCA => "verify-ca",
                SslMode.VerifyFull => "verify-full",
                _ => "prefer",
            };
            info.Environment["PGCONNECT_TIMEOUT"] = "15";
            info.Environment["PGAPPNAME"] = "floyo-dr";
        }
        return info;
    }

    public async Task<ToolResult> RunAsync(string tool, IEnumerable<string> arguments, NpgsqlConnectionStringBuilder? connection, CancellationToken ct)
    {
        using var process = Process.Start(StartInfo(tool, arguments, connection))
            ?? throw new RecoveryException($"could not start {tool}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = StderrTail.CollectAsync(process.StandardError, ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    public static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)(\.\d+)?")]
    private static partial Regex VersionPattern();
}

public sealed record ToolResult(int ExitCode, string StdOut, string StdErr);

/// <summary>Keeps the last few KiB of a tool's stderr: enough to explain a failure, bounded in memory.</summary>
public static class StderrTail
{
    private const int Limit = 16 * 1024;

    public static async Task<string> CollectAsync(StreamReader reader, CancellationToken ct)
    {
        var buffer = new StringBuilder();
        var chunk = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Append(chunk, 0, read);
            if (buffer.Length > Limit * 2)
            {
                buffer.Remove(0, buffer.Length - Limit);
            }
        }
        return buffer.ToString();
    }

    /// <summary>The most telling line of a tool's stderr: the first error, else the last line.</summary>
    public static string Summary(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("FATAL", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "no output";
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}
