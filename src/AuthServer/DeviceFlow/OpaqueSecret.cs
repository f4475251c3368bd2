using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.DeviceFlow;

/// <summary>
/// Opaque bearer secrets of ours (confirm tickets): 256 random bits, base64url, stored only as a SHA-256 hash; and the
/// same hash of OpenIddict's device codes, under which a login request is found. Lookups go by hash, so a timing
/// difference in the index search reveals nothing about the stored secret.
/// </summary>
public static class OpaqueSecret
{
    public static string New() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>Whether <paramref name="text"/> has the shape <see cref="New"/> gives: 43 base64url characters.</summary>
    public static bool IsWellFormed(string? text) =>
        text is { Length: 43 } && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static string Hash(string secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var max = Encoding.UTF8.GetMaxByteCount(secret.Length);
        var bytes = max <= 256 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(secret, bytes);
        SHA256.HashData(bytes[..length], hash);
        return Base64UrlEncoder.Encode(hash.ToArray());
    }

    /// <summary>Compares two ASCII strings (hashes, nonces, challenges) in time that does not depend on where they differ.</summary>
    public static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
