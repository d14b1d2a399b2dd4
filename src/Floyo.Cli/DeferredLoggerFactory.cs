using Microsoft.Extensions.Logging;

namespace Floyo.Cli;

/// <summary>
/// Builds the real logging (console) only when a message at or above <paramref name="minimum"/> is logged.
/// <c>wal push</c> and <c>wal fetch</c> log nothing at the default level (Warning), and building the console
/// logging cost them about 30 ms of CPU per run (measured), once per WAL segment. What is written, and where, is
/// exactly what the real factory writes: it still applies its own level and filters.
/// </summary>
internal sealed class DeferredLoggerFactory(LogLevel minimum, Func<ILoggerFactory> create) : ILoggerFactory
{
    private readonly Lazy<ILoggerFactory> _factory = new(create);

    public ILogger CreateLogger(string categoryName) => new DeferredLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => _factory.Value.AddProvider(provider);

    public void Dispose()
    {
        if (_factory.IsValueCreated)
        {
            _factory.Value.Dispose();
        }
    }

    private bool Wanted(LogLevel level) => level != LogLevel.None && level >= minimum;

    private sealed class DeferredLogger(DeferredLoggerFactory owner, string category) : ILogger
    {
        private ILogger? _logger;

        private ILogger Logger => _logger ??= owner._factory.Value.CreateLogger(category);

        // Scopes are not written by the console format the CLI uses; one begun before anything is logged is dropped.
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => _logger?.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => owner.Wanted(logLevel) && Logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner.Wanted(logLevel))
            {
                Logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
