using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Floyo.Recovery.Tests.Support;

/// <summary>
/// An Azurite of the test's own, on a free port with its own data folder, so a test can kill storage in
/// the middle of an operation (the shared one must never be stopped) and start it again on the same port
/// and data. Found at &lt;repo&gt;/.tools/azurite (installed by scripts/services.sh), else FLOYO_AZURITE_DIR.
/// </summary>
public sealed class PrivateAzurite : IAsyncDisposable
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly TempDirectory _data = new();
    private Process? _process;

    private PrivateAzurite(int port) => Port = port;

    public int Port { get; }

    /// <summary>The documented, public Azurite development account key: not a secret.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public bool IsRunning => _process is { HasExited: false };

    public static async Task<PrivateAzurite> StartAsync()
    {
        var azurite = new PrivateAzurite(FreePort());
        await azurite.StartAgainAsync();
        return azurite;
    }

    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { EntryPoint(), "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--location", _data.Path, "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start node for Azurite");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"private Azurite exited at start (code {_process.ExitCode})");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"private Azurite did not listen on port {Port} within 30 s");
    }

    /// <summary>SIGKILL: the storage outage, with connections cut mid-request.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _data.Dispose();
    }

    private static string EntryPoint()
    {
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable("FLOYO_AZURITE_DIR"),
            Path.Combine(Fixtures.RepositoryRoot, ".tools", "azurite"),
            // A git worktree shares the main checkout's installed tools.
            Path.Combine(Path.GetDirectoryName(Environment.GetEnvironmentVariable("FLOYO_SERVICES_SCRIPT") ?? "") ?? "", "..", ".tools", "azurite"),
        };
        foreach (var dir in candidates.Where(d => !string.IsNullOrEmpty(d)))
        {
            // The blob-only server: the full one would also claim the queue and table ports of the shared instance.
            var js = Path.Combine(dir!, "node_modules", "azurite", "dist", "src", "blob", "main.js");
            if (File.Exists(js))
            {
                return Path.GetFullPath(js);
            }
        }
        throw new InvalidOperationException("Azurite is not installed under <repo>/.tools/azurite: run scripts/services.sh start (or set FLOYO_AZURITE_DIR)");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
