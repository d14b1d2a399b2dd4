using System.Reflection;
using Floyo.Recovery;
using Microsoft.Extensions.Logging;

namespace Floyo.Functions.Tests.App;

/// <summary>
/// Log events as Application Insights sees them: each EventId names one message across the three assemblies
/// (queries and alerts filter on it), and workflow failures carry their exception so the stack trace arrives.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class LogEventTests
{
    private static readonly Assembly[] Sources =
    [
        typeof(RecoveryException).Assembly,
        typeof(FloyoFunctionsApp).Assembly,
        Assembly.Load(new AssemblyName("floyo-dr")),
    ];

    private static IEnumerable<(MethodInfo Method, LoggerMessageAttribute Message)> LogMessages() =>
        from assembly in Sources
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        let message = method.GetCustomAttribute<LoggerMessageAttribute>()
        where message is not null
        select (method, message);

    [Fact]
    public void Every_event_id_names_one_message()
    {
        var all = LogMessages().ToList();
        Assert.True(all.Count > 50, $"found only {all.Count} [LoggerMessage] methods; is the scan looking at the right assemblies?");
        var duplicates = all
            .GroupBy(m => m.Message.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}"))}")
            .ToList();
        Assert.True(duplicates.Count == 0, "EventIds used more than once: " + string.Join("; ", duplicates));
    }

    [Theory]
    [InlineData("WorkflowFailed")]
    [InlineData("TransientActivityFailure")]
    [InlineData("ActivityFailed")]
    [InlineData("RestoreFailedWritesStopped")]
    [InlineData("RecordFailed")]
    [InlineData("NotificationFailed")]
    public void Workflow_failure_logs_carry_the_exception(string name)
    {
        var method = Assert.Single(LogMessages(), m => m.Method.DeclaringType!.Name == "WorkflowLogs" && m.Method.Name == name).Method;
        Assert.Contains(method.GetParameters(), p => typeof(Exception).IsAssignableFrom(p.ParameterType));
    }
}
