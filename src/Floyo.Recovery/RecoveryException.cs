namespace Floyo.Recovery;

/// <summary>
/// A failure the operator can act on. Its message is one line, names the problem, and never
/// contains a secret; front ends print it as <c>error: ...</c>. Its <see cref="Kind"/> tells scripts
/// what sort of failure it is (the CLI's exit code) without reading the message.
/// </summary>
public class RecoveryException : Exception
{
    public RecoveryException(string message, Exception? inner = null)
        : this(ErrorKind.General, message, inner)
    {
    }

    // Only the kind classes below pass a kind, so the exception's type alone names its kind; that is what
    // survives a workflow boundary (Durable Task keeps the type name, not the instance).
    private protected RecoveryException(ErrorKind kind, string message, Exception? inner)
        : base(message, inner) => Kind = kind;

    public ErrorKind Kind { get; }

    /// <summary>An exception of <paramref name="kind"/>, for re-throwing a failure whose kind was read from elsewhere.</summary>
    public static RecoveryException Of(ErrorKind kind, string message, Exception? inner = null) => kind switch
    {
        ErrorKind.Usage => new UsageException(message, inner),
        ErrorKind.Configuration => new ConfigurationException(message, inner),
        ErrorKind.NotFound => new NotFoundException(message, inner),
        ErrorKind.RefusedForSafety => new RefusedException(message, inner),
        ErrorKind.Integrity => new IntegrityException(message, inner),
        ErrorKind.Unavailable => new UnavailableException(message, inner),
        _ => new RecoveryException(message, inner),
    };
}

/// <summary>The command was given wrong or contradictory arguments.</summary>
public class UsageException(string message, Exception? inner = null) : RecoveryException(ErrorKind.Usage, message, inner);

/// <summary>A setting is missing, malformed or names something that cannot work (a tool, a credential, a store).</summary>
public class ConfigurationException(string message, Exception? inner = null) : RecoveryException(ErrorKind.Configuration, message, inner);

/// <summary>The backup, report, secret or database asked for does not exist.</summary>
public class NotFoundException(string message, Exception? inner = null) : RecoveryException(ErrorKind.NotFound, message, inner);

/// <summary>Refused because going on could lose data or reach the wrong database; nothing was changed.</summary>
public class RefusedException(string message, Exception? inner = null) : RecoveryException(ErrorKind.RefusedForSafety, message, inner);

/// <summary>A backup or a restored copy is not what was recorded (checksum, archive or integrity check).</summary>
public class IntegrityException(string message, Exception? inner = null) : RecoveryException(ErrorKind.Integrity, message, inner);

/// <summary>A server or service could not be reached or is briefly refusing; trying again later may work.</summary>
public class UnavailableException(string message, Exception? inner = null) : RecoveryException(ErrorKind.Unavailable, message, inner);
