using Floyo.Recovery.Secrets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Floyo.Recovery.Postgres;

/// <summary>One client tool as found: where, which version, and what is wrong with it (null when fit).</summary>
public sealed record ToolState(string Tool, string? Path, string? Version, int? Major, string? Problem);

/// <summary>
/// The client tools against the server: each tool's state, the server's major version (null when it could not
/// be read, with <see cref="ServerNote"/> saying why), and the findings that make the tools unfit.
/// </summary>
public sealed record ToolReport(int? ServerMajor, string? ServerNote, IReadOnlyList<ToolState> Tools)
{
    public IReadOnlyList<string> Findings => [.. Tools.Where(t => t.Problem is not null).Select(t => t.Problem!)];

    public bool Ready => Tools.All(t => t.Problem is null);
}

/// <summary>
/// Start-up truth about the PostgreSQL client tools: is each of pg_dump, pg_restore and pg_basebackup present
/// (PG_BIN_DIR or PATH), does it run, and is its major at least the server's (an older pg_dump cannot dump newer
/// catalogs, an older pg_restore cannot read their archives, an older pg_basebackup refuses a newer server).
/// Read by the Functions app at start-up, by /api/health, by floyo-dr before a command that needs a tool, and by
/// the data-centre drill: absence or age is found long before the 02:00 backup would find it.
/// </summary>
public sealed partial class ClientToolCheck(PgTools tools, DatabaseConnections connections, ILogger<ClientToolCheck> logger)
{
    /// <summary>The tools floyo-dr runs (psql is never used).</summary>
    public static readonly IReadOnlyList<string> Required = ["pg_dump", "pg_restore", "pg_basebackup"];

    /// <summary>Every required tool against the server of DATABASE_URL (its major unknown when it is unset or unreachable).</summary>
    public async Task<ToolReport> CheckAsync(CancellationToken ct)
    {
        var (major, note) = await ServerMajorAsync(ct);
        return await CheckAsync(Required, major, note, ct);
    }

    /// <summary>The given tools against a server major already known (null: presence and version only).</summary>
    public async Task<ToolReport> CheckAsync(IReadOnlyList<string> toolNames, int? serverMajor, string? serverNote, CancellationToken ct)
    {
        var states = new List<ToolState>();
        foreach (var tool in toolNames)
        {
            states.Add(await StateAsync(tool, serverMajor, ct));
        }
        return new ToolReport(serverMajor, serverNote, states);
    }

    /// <summary>
    /// Fails fast, in one line naming the tool, its version and the server's, when a tool a command needs is unfit.
    /// A server that cannot be reached is left for the command itself to report (its own way, with its alerts):
    /// then only the tool's presence is checked here.
    /// </summary>
    public async Task EnsureAsync(IReadOnlyList<string> toolNames, NpgsqlConnectionStringBuilder server, CancellationToken ct)
    {
        int? major = null;
        try
        {
            await using var connection = await PgConnector.OpenAsync(server, ct);
            major = connection.PostgreSqlVersion.Major;
        }
        catch (RecoveryException)
        {
            // Not this check's finding: the command connects next and says why it cannot.
        }
        var report = await CheckAsync(toolNames, major, null, ct);
        if (!report.Ready)
        {
            throw new ConfigurationException(string.Join("; ", report.Findings));
        }
    }

    /// <summary>Logs each finding as a warning (the Functions app's start-up), or that the tools are fit.</summary>
    public void Log(ToolReport report)
    {
        foreach (var finding in report.Findings)
        {
            LogFinding(logger, finding);
        }
        if (report.ServerNote is not null)
        {
            LogServerUnknown(logger, report.ServerNote);
        }
        if (report.Ready)
        {
            LogReady(logger, string.Join(", ", report.Tools.Select(t => $"{t.Tool} {t.Version}")), report.ServerMajor?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown");
        }
    }

    private async Task<ToolState> StateAsync(string tool, int? serverMajor, CancellationToken ct)
    {
        string path;
        try
        {
            path = tools.Locate(tool);
        }
        catch (ConfigurationException e)
        {
            return new ToolState(tool, null, null, null, e.Message);
        }
        int major;
        string full;
        try
        {
            (major, full) = await tools.VersionAsync(tool, ct);
        }
        catch (Exception e) when (e is RecoveryException or System.ComponentModel.Win32Exception or IOException)
        {
            // Present but not runnable (no execute bit, a missing shared library): as unfit as absent.
            return new ToolState(tool, path, null, null, $"{tool} at {path} does not run: {e.Message}");
        }
        var version = PgTools.VersionNumber(full);
        var problem = serverMajor is { } server && major < server ? PgTools.TooOld(tool, version, server) : null;
        return new ToolState(tool, path, version, major, problem);
    }

    private async Task<(int? Major, string? Note)> ServerMajorAsync(CancellationToken ct)
    {
        try
        {
            var server = await connections.DatabaseAsync(ct);
            await using var connection = await PgConnector.OpenAsync(server, ct);
            return (connection.PostgreSqlVersion.Major, null);
        }
        catch (RecoveryException e)
        {
            return (null, $"the server's version is unknown ({e.Message}): the tools were only found, not compared with it");
        }
    }

    [LoggerMessage(EventId = 9500, Level = LogLevel.Warning, Message = "PostgreSQL client tools: {Finding}")]
    private static partial void LogFinding(ILogger logger, string finding);

    [LoggerMessage(EventId = 9501, Level = LogLevel.Warning, Message = "PostgreSQL client tools: {Note}")]
    private static partial void LogServerUnknown(ILogger logger, string note);

    [LoggerMessage(EventId = 9502, Level = LogLevel.Information, Message = "PostgreSQL client tools fit for server major {ServerMajor}: {Tools}")]
    private static partial void LogReady(ILogger logger, string tools, string serverMajor);
}
