using Floyo.Recovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Cli;

/// <summary>
/// Builds the engine from environment settings and runs one command, turning every failure into a
/// single <c>error: ...</c> line on stderr and a non-zero exit code.
/// </summary>
internal static class CliHost
{
    /// <param name="workflows">Start the embedded Durable engine (backup and restore run as orchestrations).</param>
    public static Task<int> RunAsync(Func<IServiceProvider, CancellationToken, Task<int>> command, CancellationToken ct, bool workflows = false) =>
        GuardAsync(async () =>
        {
            using var host = Build(workflows);
            await host.StartAsync(ct);
            try
            {
                return await command(host.Services, ct);
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        });

    /// <summary>Runs a command however it was built (<see cref="WalHost"/> builds no host), with the same one-line failures and exit codes.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (RecoveryException e)
        {
            return Fail(e.Message, e.Kind);
        }
        catch (OptionsValidationException e)
        {
            return Fail(string.Join("; ", e.Failures), ErrorKind.Configuration);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            // ValidateOnStart reports every failing options class at once; a setting shared by two appears twice.
            return Fail(string.Join("; ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(o => o.Failures).Distinct()), ErrorKind.Configuration);
        }
        catch (InvalidOperationException e) when (e.TargetSite?.DeclaringType?.Assembly == typeof(ConfigurationBinder).Assembly)
        {
            // Thrown by the configuration binder: a setting's value does not convert. Its message names the
            // setting and its value; values here are never secrets.
            return Fail(e.Message, ErrorKind.Configuration);
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled; nothing partial was kept", 130);
        }
        catch (Exception e)
        {
            // Even a bug of ours gets one line, not a stack trace.
            return Fail($"unexpected {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>The one place a failure kind becomes an exit code: the kind's value (see <see cref="ErrorKind"/>).</summary>
    public static int Fail(string message, ErrorKind kind) => Fail(message, (int)kind);

    public static int Fail(string message, int exitCode = (int)ErrorKind.General)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        return exitCode;
    }

    /// <summary>One line per message on stderr, at FLOYO_LOG_LEVEL (Warning when unset or not a level).</summary>
    public static void ConfigureLogging(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; o.UseUtcTimestamp = true; });
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(MinimumLevel(configuration));
        // The host reports its own start-up failures as stack traces; ours is the one-line error.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.None);
    }

    /// <summary>FLOYO_LOG_LEVEL, Warning when unset or not a level.</summary>
    public static LogLevel MinimumLevel(IConfiguration configuration) =>
        Enum.TryParse<LogLevel>(configuration["FLOYO_LOG_LEVEL"], true, out var level) ? level : LogLevel.Warning;

    private static IHost Build(bool workflows)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();
        ConfigureLogging(builder.Logging, builder.Configuration);
        builder.Services.AddFloyoRecovery();
        if (workflows)
        {
            Workflows.EmbeddedWorkflows.Add(builder.Services);
            // The engine's sidecar, gRPC and the workflows log what the command prints anyway, as one line;
            // FLOYO_LOG_LEVEL shows them when someone needs to look inside.
            var inside = Enum.TryParse<LogLevel>(builder.Configuration["FLOYO_LOG_LEVEL"], true, out var chosen) ? chosen : LogLevel.None;
            foreach (var category in new[] { "Microsoft.DurableTask", "Microsoft.AspNetCore", "Grpc", "Floyo.Recovery.Workflows", "Microsoft.Hosting.Lifetime",
                "Floyo.Recovery.Breach.BreachRecoveryOrchestrator", "Floyo.Recovery.Breach.GdprReminderOrchestrator",
                // Alerts still reach the configured channels and notifications/ in the store; the terminal has the command's own output.
                "Floyo.Recovery.Notifications" })
            {
                builder.Logging.AddFilter(category, inside);
            }
        }
        return builder.Build();
    }
}
