using Microsoft.DurableTask;

namespace Floyo.Recovery;

/// <summary>
/// The closed set of failure kinds. The values are the CLI's exit codes, which scripts may rely on;
/// 0 is success, 130 a cancellation, and <c>wal fetch</c> keeps 126 for a damaged file (PostgreSQL's rule).
/// </summary>
public enum ErrorKind
{
    /// <summary>Anything not classified below.</summary>
    General = 1,
    Usage = 2,
    Configuration = 3,
    NotFound = 4,
    RefusedForSafety = 5,
    Integrity = 6,
    Unavailable = 7,
}

/// <summary>Reads the kind of any failure, including one that crossed a workflow boundary by type name.</summary>
public static class ErrorKinds
{
    private static readonly Dictionary<Type, ErrorKind> KindClasses = new()
    {
        [typeof(UsageException)] = ErrorKind.Usage,
        [typeof(ConfigurationException)] = ErrorKind.Configuration,
        [typeof(NotFoundException)] = ErrorKind.NotFound,
        [typeof(RefusedException)] = ErrorKind.RefusedForSafety,
        [typeof(IntegrityException)] = ErrorKind.Integrity,
        [typeof(UnavailableException)] = ErrorKind.Unavailable,
    };

    /// <summary>The kind of the exception type named <paramref name="typeName"/> (a full name), General when it is none of ours.</summary>
    public static ErrorKind OfTypeName(string? typeName)
    {
        if (string.IsNullOrEmpty(typeName))
        {
            return ErrorKind.General;
        }
        var type = typeof(RecoveryException).Assembly.GetType(typeName)
            ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
        for (; type is not null; type = type.BaseType)
        {
            if (KindClasses.TryGetValue(type, out var kind))
            {
                return kind;
            }
        }
        return ErrorKind.General;
    }

    /// <summary>The kind of <paramref name="e"/>; a workflow step's failure keeps the kind it was thrown with.</summary>
    public static ErrorKind Of(Exception e) => e switch
    {
        RecoveryException r => r.Kind,
        TaskFailedException failed => Of(failed.FailureDetails),
        _ => ErrorKind.General,
    };

    /// <summary>The kind recorded in a workflow failure: the first of our exception types down its chain of causes.</summary>
    public static ErrorKind Of(TaskFailureDetails? failure)
    {
        for (; failure is not null; failure = failure.InnerFailure)
        {
            if (IsRecoveryType(failure.ErrorType))
            {
                return OfTypeName(failure.ErrorType);
            }
        }
        return ErrorKind.General;
    }

    /// <summary>True when <paramref name="typeName"/> names one of our exception types, so its kind is known.</summary>
    public static bool IsRecoveryType(string? typeName) =>
        !string.IsNullOrEmpty(typeName) && typeof(RecoveryException).Assembly.GetType(typeName) is { } t && typeof(RecoveryException).IsAssignableFrom(t);
}
