using Floyo.Recovery.Wal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Floyo.Cli;

/// <summary>
/// Runs <c>wal push</c> and <c>wal fetch</c>, which PostgreSQL starts once per WAL segment, on
/// <see cref="WalArchiveFromSettings"/> instead of the generic host with the whole engine: the same settings
/// (environment variables), validation, logging and one-line failures as <see cref="CliHost"/>, without its start-up cost.
/// </summary>
internal static class WalHost
{
    public static Task<int> RunAsync(Func<WalArchiveFromSettings, CancellationToken, Task<int>> command, CancellationToken ct) =>
        CliHost.GuardAsync(async () =>
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            using var loggers = new DeferredLoggerFactory(CliHost.MinimumLevel(configuration), () => LoggerFactory.Create(logging => CliHost.ConfigureLogging(logging, configuration)));
            return await command(WalArchiveFromSettings.Create(configuration, loggers), ct);
        });
}
