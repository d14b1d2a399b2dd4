using System.Text;

namespace Floyo.Recovery.Postgres;

/// <summary>
/// Database and role names are identifiers, never connection strings. libpq reads a database name that
/// contains '=' or starts with postgres:// as a whole connection string (host, port, user, ...), so such a
/// name could send the admin's credentials to another server. Every name that enters from a setting, the
/// command line or HTTP is checked here once; PostgreSQL's other oddities (quotes, spaces, non-ASCII) stay legal.
/// </summary>
public static class PgIdentifier
{
    public const string Rule = "a name is 1 to 63 bytes, with no control character, no '=', no leading or trailing space, and no postgres:// prefix";

    /// <summary>Why <paramref name="name"/> is not a safe identifier, or null when it is.</summary>
    public static string? Problem(string? name) => name switch
    {
        null or "" => "it is empty",
        _ when Encoding.UTF8.GetByteCount(name) > 63 => "it is longer than 63 bytes",
        _ when name.Any(char.IsControl) => "it contains a control character",
        _ when name.Trim() != name => "it starts or ends with white space",
        _ when name.Contains('=', StringComparison.Ordinal) => "it contains '=', which client tools read as a connection string",
        _ when name.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || name.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            => "it is a postgres:// URI, which client tools read as a connection string",
        _ => null,
    };

    /// <summary>Returns <paramref name="name"/> when it is a safe database name; otherwise one line naming <paramref name="what"/> and the rule.</summary>
    /// <remarks>The name itself is not echoed: a connection string may carry a password.</remarks>
    public static string Database(string? name, string what) => Problem(name) is { } problem
        ? throw new UsageException($"{what} is not a valid database name: {problem} ({Rule})")
        : name!;
}
