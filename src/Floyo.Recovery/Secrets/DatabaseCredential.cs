using System.Text.Json;
using System.Text.Json.Serialization;

namespace Floyo.Recovery.Secrets;

/// <summary>
/// The value of a database credential secret: <c>{"username":"...","password":"..."}</c>. The username
/// travels with the password because blue/green rotation switches login roles; host, port and database
/// stay in the application's own settings, so a failover to another server never rewrites the secret.
/// </summary>
public sealed class DatabaseCredential(string username, string password)
{
    public const string ContentType = "application/json";

    public string Username { get; } = username;

    public string Password { get; } = password;

    public string ToJson() => JsonSerializer.Serialize(new Wire { Username = Username, Password = Password });

    /// <summary>A credential in our JSON form; false for anything else (for example a bare password).</summary>
    public static bool TryParse(string value, out DatabaseCredential? credential)
    {
        credential = null;
        if (!value.TrimStart().StartsWith('{'))
        {
            return false;
        }
        try
        {
            var wire = JsonSerializer.Deserialize<Wire>(value);
            if (wire is { Username.Length: > 0, Password.Length: > 0 })
            {
                credential = new DatabaseCredential(wire.Username, wire.Password);
                return true;
            }
        }
        catch (JsonException)
        {
            // Not our form; the caller decides. The parser's message is not kept: it could quote the value.
        }
        return false;
    }

    public override string ToString() => $"{Username}:***";

    private sealed class Wire
    {
        [JsonPropertyName("username")]
        public string? Username { get; set; }

        [JsonPropertyName("password")]
        public string? Password { get; set; }
    }
}
