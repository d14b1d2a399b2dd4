using System.Security.Cryptography;
using System.Text;

namespace Floyo.Recovery.Postgres;

/// <summary>
/// Computes the SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, as libpq's
/// PQencryptPasswordConn does), so ALTER ROLE ... PASSWORD sends the verifier and the plain password never
/// reaches the server, where a failed statement could be written to its log.
/// </summary>
public static class ScramVerifier
{
    private const int Iterations = 4096;

    /// <summary>Passwords here are ASCII (see RandomSecret), so SASLprep leaves them unchanged.</summary>
    public static string Compute(string password)
    {
        if (password.Any(c => c > 0x7E || c < 0x21))
        {
            throw new ArgumentException("only printable ASCII passwords are supported", nameof(password));
        }
        var salt = RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }
}
