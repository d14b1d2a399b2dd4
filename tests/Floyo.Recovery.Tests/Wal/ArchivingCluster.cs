using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Wal;

/// <summary>
/// A private PostgreSQL 15 cluster with archive_mode = on and archive_command = '&lt;wrapper&gt; wal push %p',
/// the wrapper being the real floyo-dr run as the server's user (postgres) into a filesystem store that
/// user owns, as on a database server. Created like scripts/services.sh creates its clusters (initdb and
/// pg_ctl as postgres), on a free port, in a folder under /tmp the postgres user can reach.
/// </summary>
public sealed class ArchivingCluster : IAsyncDisposable
{
    public const string PgBin = "/usr/lib/postgresql/15/bin";
    private const string Admin = "floyo_admin";

    private ArchivingCluster(string root, int port, string password, bool archiving)
    {
        Root = root;
        Port = port;
        Password = password;
        Archiving = archiving;
    }

    /// <summary>False: archive_mode = off, no archive_command (a server where nothing can be installed; pull mode).</summary>
    public bool Archiving { get; }

    public string Root { get; }

    public int Port { get; }

    private string Password { get; }

    public string DataDir => Path.Combine(Root, "data");

    public string Store => Path.Combine(Root, "store");

    public string Sockets => Path.Combine(Root, "run");

    /// <summary>The floyo-dr wrapper the server runs: the store's settings inline, no secret.</summary>
    public string Wrapper => Path.Combine(Root, "floyo-dr.sh");

    public string Url => $"postgresql://{Admin}:{Password}@127.0.0.1:{Port}/postgres";

    public string UrlOn(int port) => $"postgresql://{Admin}:{Password}@127.0.0.1:{port}/postgres";

    public static async Task<ArchivingCluster> StartAsync(bool archiving = true)
    {
        var root = Path.Combine("/tmp", $"floyo-wal-{Guid.NewGuid():N}"[..24]);
        var cluster = new ArchivingCluster(root, FreePort(), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), archiving);
        await cluster.InitAsync();
        return cluster;
    }

    private async Task InitAsync()
    {
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        foreach (var (dir, mode) in new[] { (DataDir, 0b111_000_000), (Store, 0b111_000_000), (Sockets, 0b111_000_000) })
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, (UnixFileMode)mode);
        }
        var pwfile = Path.Combine(Sockets, "pw");
        await File.WriteAllTextAsync(pwfile, Password + "\n");
        await File.WriteAllTextAsync(Wrapper,
            $"#!/bin/sh\nBACKUP_STORE=filesystem BACKUP_DIR='{Store}' DOTNET_NOLOGO=1 exec /usr/bin/dotnet '{Path.Combine(AppContext.BaseDirectory, "floyo-dr.dll")}' \"$@\"\n");
        File.SetUnixFileMode(Wrapper, (UnixFileMode)0b111_101_101);
        await RunAsync("chown", "-R", "postgres:postgres", DataDir, Store, Sockets);
        await AsPostgresAsync(null, $"{PgBin}/initdb", "-D", DataDir, "-U", Admin, $"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions");
        File.Delete(pwfile);
        await File.AppendAllTextAsync(Path.Combine(DataDir, "postgresql.auto.conf"), $"""

            port = {Port}
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{Sockets}'
            wal_level = replica
            fsync = off
            """ + (Archiving ? $"""

            archive_mode = on
            archive_command = '{Wrapper} wal push %p'
            archive_timeout = 60
            """ : ""));
        await StartServerAsync(DataDir);
    }

    public Task StartServerAsync(string dataDir) =>
        AsPostgresAsync(null, $"{PgBin}/pg_ctl", "-D", dataDir, "-l", Path.Combine(Sockets, $"{Path.GetFileName(dataDir)}.log"), "-w", "-t", "60", "start");

    public async Task StopServerAsync(string dataDir)
    {
        if (File.Exists(Path.Combine(dataDir, "postmaster.pid")))
        {
            await AsPostgresAsync(null, $"{PgBin}/pg_ctl", "-D", dataDir, "-m", "immediate", "-w", "stop");
        }
    }

    /// <summary>
    /// A NOSUPERUSER login like a managed server's admin (REPLICATION, CREATEDB, CREATEROLE), allowed to call
    /// pg_switch_wal() only when <paramref name="mayCallSwitchWal"/>; its URL.
    /// </summary>
    public async Task<string> CreateReplicationAdminAsync(string role, bool mayCallSwitchWal)
    {
        await ExecuteAsync($"CREATE ROLE {role} LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE REPLICATION PASSWORD '{Password}'");
        if (mayCallSwitchWal)
        {
            await ExecuteAsync($"GRANT EXECUTE ON FUNCTION pg_switch_wal() TO {role}");
        }
        return $"postgresql://{role}:{Password}@127.0.0.1:{Port}/postgres";
    }

    /// <summary>Changes a server setting (ALTER SYSTEM) and reloads.</summary>
    public async Task SetAsync(string setting, string value)
    {
        await ExecuteAsync($"ALTER SYSTEM SET {setting} = '{value.Replace("'", "''", StringComparison.Ordinal)}'");
        await ExecuteAsync("SELECT pg_reload_conf()");
    }

    public async Task<T> ScalarAsync<T>(string sql, int? port = null)
    {
        await using var connection = new NpgsqlConnection(Connection(port ?? Port));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, int? port = null)
    {
        await using var connection = new NpgsqlConnection(Connection(port ?? Port));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Switches to a new segment and waits until the server has archived the one it closed.</summary>
    public async Task SwitchAndWaitForArchiveAsync(int? port = null)
    {
        var closed = await ScalarAsync<string>("SELECT pg_walfile_name(pg_switch_wal())", port);
        var deadline = Stopwatch.StartNew();
        while (string.CompareOrdinal(await ScalarAsync<string?>("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver", port) ?? "", closed) < 0)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                var failed = await ScalarAsync<string?>("SELECT coalesce(last_failed_wal, 'none') FROM pg_stat_archiver", port);
                throw new TimeoutException($"{closed} was not archived within 60 s (last failed: {failed}); see {Sockets}/data.log");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>floyo-dr through the wrapper as the postgres user, as an operator on the database server runs it.</summary>
    public Task<CliResult> FloyoDrAsPostgresAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        AsPostgresAsync(environment, [Wrapper, .. args], check: false);

    private string Connection(int port) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = port, Username = Admin, Password = Password, Database = "postgres", Pooling = false,
    }.ConnectionString;

    private static Task<CliResult> AsPostgresAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        AsPostgresAsync(environment, args, check: true);

    private static async Task<CliResult> AsPostgresAsync(IReadOnlyDictionary<string, string?>? environment, string[] args, bool check)
    {
        var result = await RunAsync(environment, ["runuser", "-u", "postgres", "--", .. args]);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', args.Take(2))} failed: {result.All}");
        }
        return result;
    }

    private static async Task RunAsync(params string[] args)
    {
        var result = await RunAsync(null, args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{args[0]} failed: {result.All}");
        }
    }

    private static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?>? environment, string[] args)
    {
        var info = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var arg in args.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var dir in Directory.Exists(Root) ? Directory.GetDirectories(Root) : [])
        {
            try
            {
                await StopServerAsync(dir);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
