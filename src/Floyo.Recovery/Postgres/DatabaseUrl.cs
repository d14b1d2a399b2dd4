using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Floyo.Recovery.Postgres;

/// <summary>
/// Parses <c>DATABASE_URL</c> in either form the plan allows (a <c>postgresql://</c> URI or a
/// key=value connection string) into an Npgsql connection string, without ever echoing the password.
/// </summary>
public static class DatabaseUrl
{
    public static NpgsqlConnectionStringBuilder Parse(string? value, string settingName = "DATABASE_URL")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ConfigurationException($"{settingName} is not set: give a postgresql:// URI or a key=value connection string");
        }
        return TryParse(value, out var builder, out var why)
            ? builder
            : throw new ConfigurationException($"{settingName} is malformed: {why}");
    }

    public static bool TryParse(string value, [NotNullWhen(true)] out NpgsqlConnectionStringBuilder? builder, out string why)
    {
        builder = null;
        why = "";
        value = value.Trim();
        try
        {
            builder = value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
                ? FromUri(value)
                : new NpgsqlConnectionStringBuilder(value);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException or KeyNotFoundException)
        {
            // Npgsql's messages can quote the offending fragment, which may be the password.
            why = e is UriFormatException or FormatException ? "not a valid postgresql:// URI" : "not a valid key=value connection string";
            return false;
        }
        if (string.IsNullOrEmpty(builder.Host))
        {
            why = "no host";
            builder = null;
            return false;
        }
        if (string.IsNullOrEmpty(builder.Database))
        {
            why = "no database name";
            builder = null;
            return false;
        }
        if (PgIdentifier.Problem(builder.Database) is { } problem)
        {
            why = $"its database name is not valid: {problem} ({PgIdentifier.Rule})";
            builder = null;
            return false;
        }
        return true;
    }

    private static NpgsqlConnectionStringBuilder FromUri(string value)
    {
        var uri = new Uri(value);
        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException();
        }
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var val = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key.ToLowerInvariant())
            {
                case "sslmode": builder.SslMode = Enum.Parse<SslMode>(val, ignoreCase: true); break;
                case "application_name": builder.ApplicationName = val; break;
                case "connect_timeout": builder.Timeout = int.Parse(val, System.Globalization.CultureInfo.InvariantCulture); break;
                default: builder[key] = val; break;
            }
        }
        return builder;
    }

    /// <summary>host:port/database as operators recognise it; never the user's password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) => $"{builder.Host}:{builder.Port}/{builder.Database}";

    /// <summary>The same server and credentials, pointed at another database.</summary>
    public static NpgsqlConnectionStringBuilder WithDatabase(NpgsqlConnectionStringBuilder builder, string database)
    {
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database };
        return copy;
    }
}
