using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace ResourceApi.Tests.Infrastructure;

/// <summary>
/// A client's DPoP key (ECDSA P-256 for ES256, or RSA 2048 for RS256) and the proofs it signs (RFC 9449 §4.2), built
/// by hand so the tests depend on nothing but the RFC: header <c>{typ, alg, jwk}</c>, claims
/// <c>{jti, htm, htu, iat, nonce?, ath?}</c>.
/// </summary>
public sealed class ProofKey : IDisposable
{
    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    /// <summary>The public JWK, members in lexicographic order (which is also the RFC 7638 thumbprint input).</summary>
    public string PublicJwk { get; }

    /// <summary>The RFC 7638 thumbprint: what a token bound to this key carries as <c>cnf.jkt</c>.</summary>
    public string Thumbprint { get; }

    /// <summary>The JWS algorithm of the proofs: ES256 or RS256.</summary>
    public string Alg => _ec is not null ? "ES256" : "RS256";

    /// <summary>The last <c>DPoP-Nonce</c> the authorization server gave this client.</summary>
    public string? Nonce { get; set; }

    /// <summary>An ES256 key; <paramref name="rsa"/> makes it an RS256 key instead.</summary>
    public ProofKey(bool rsa = false)
    {
        if (rsa)
        {
            _rsa = RSA.Create(2048);
            var p = _rsa.ExportParameters(false);
            PublicJwk = $"{{\"e\":\"{Base64UrlEncoder.Encode(p.Exponent)}\",\"kty\":\"RSA\",\"n\":\"{Base64UrlEncoder.Encode(p.Modulus)}\"}}";
        }
        else
        {
            _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var p = _ec.ExportParameters(false);
            PublicJwk = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64UrlEncoder.Encode(p.Q.X)}\",\"y\":\"{Base64UrlEncoder.Encode(p.Q.Y)}\"}}";
        }
        Thumbprint = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(PublicJwk)));
    }

    /// <summary>The JWK with the private key in it too: what no proof may carry.</summary>
    public string PrivateJwk()
    {
        var jwk = JsonSerializer.Deserialize<Dictionary<string, string>>(PublicJwk)!;
        jwk["d"] = Base64UrlEncoder.Encode(_ec is not null ? _ec.ExportParameters(true).D : _rsa!.ExportParameters(true).D);
        return JsonSerializer.Serialize(jwk);
    }

    /// <summary>
    /// A proof for <paramref name="method"/> <paramref name="uri"/>. With <paramref name="accessToken"/> it carries
    /// <c>ath</c>, binding it to that token (as a resource request needs). <paramref name="iat"/> defaults to now.
    /// </summary>
    public string Proof(string method, string uri, DateTimeOffset iat, string? accessToken = null, string? nonce = null, string? jti = null,
        string typ = "dpop+jwt", string? jwk = null)
    {
        var header = new Dictionary<string, object>
        {
            ["typ"] = typ,
            ["alg"] = Alg,
            ["jwk"] = JsonSerializer.Deserialize<JsonElement>(jwk ?? PublicJwk),
        };
        var claims = new Dictionary<string, object>
        {
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = uri,
            ["iat"] = iat.ToUnixTimeSeconds(),
        };
        if (nonce is not null) claims["nonce"] = nonce;
        if (accessToken is not null) claims["ath"] = Ath(accessToken);
        return Sign(header, claims);
    }

    /// <summary>base64url(SHA-256(token)): the <c>ath</c> of a proof for that token.</summary>
    public static string Ath(string accessToken) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    private string Sign(Dictionary<string, object> header, Dictionary<string, object> claims)
    {
        var signingInput = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(header)) + "."
                           + Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        var data = Encoding.ASCII.GetBytes(signingInput);
        // JWS ES256 (RFC 7518 §3.4) is the raw r || s, which is .NET's default IEEE P1363 format; RS256 is PKCS #1 v1.5.
        var signature = _ec is not null
            ? _ec.SignData(data, HashAlgorithmName.SHA256)
            : _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
