using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Dpop;

/// <summary>
/// The JWK SHA-256 thumbprint (RFC 7638), base64url-encoded: what a DPoP-bound token carries as <c>cnf.jkt</c>
/// (RFC 9449 §6.1) and a client sends as <c>dpop_jkt</c> (§10).
/// </summary>
public static class JwkThumbprint
{
    /// <summary>The length of a base64url SHA-256 thumbprint: 32 bytes, unpadded.</summary>
    public const int Length = 43;

    /// <summary>
    /// The thumbprint of an EC or RSA public key; false for any other key type, or one that lacks a required member.
    /// </summary>
    public static bool TryCompute(JsonWebKey jwk, [NotNullWhen(true)] out string? thumbprint)
    {
        // RFC 7638 §3.2: only the required members, in lexicographic order, without whitespace. Other members
        // (kid, alg, use, and the private ones) never change the thumbprint.
        var members = jwk.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.EllipticCurve => new[] { ("crv", jwk.Crv), ("kty", jwk.Kty), ("x", jwk.X), ("y", jwk.Y) },
            JsonWebAlgorithmsKeyTypes.RSA => new[] { ("e", jwk.E), ("kty", jwk.Kty), ("n", jwk.N) },
            _ => null,
        };
        thumbprint = null;
        if (members is null) return false;

        var json = new StringBuilder("{");
        foreach (var (name, value) in members)
        {
            // Members are base64url strings or curve names. Anything that would need JSON escaping is no such value,
            // and RFC 7638 §3.3 leaves its canonical form open, so such a key gets no thumbprint at all.
            if (string.IsNullOrEmpty(value) || value.Any(c => c is '"' or '\\' || char.IsControl(c) || c > '\u007e')) return false;
            if (json.Length > 1) json.Append(',');
            json.Append('"').Append(name).Append("\":\"").Append(value).Append('"');
        }
        json.Append('}');
        thumbprint = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(json.ToString())));
        return true;
    }
}
