using System.Security.Cryptography;

namespace Floyo.Recovery.Secrets;

/// <summary>New secret values: cryptographically random, URL- and conninfo-safe (base64url, no padding).</summary>
public static class RandomSecret
{
    public const int DefaultBytes = 32;

    public static string Create(int bytes = DefaultBytes)
    {
        if (bytes is < 16 or > 512)
        {
            throw new UsageException($"a random secret must have between 16 and 512 bytes, not {bytes}");
        }
        return Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
