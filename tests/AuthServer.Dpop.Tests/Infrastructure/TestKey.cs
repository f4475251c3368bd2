using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Dpop.Tests.Infrastructure;

/// <summary>
/// A client's DPoP key and the proofs it signs (RFC 9449 §4.2), built by hand so the tests depend on nothing but the
/// RFCs: header <c>{typ, alg, jwk}</c>, claims <c>{jti, htm, htu, iat, nonce?, ath?}</c>. Any member can be changed
/// or removed, to make a proof wrong in exactly one way.
/// </summary>
public sealed class TestKey : IDisposable
{
    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    public string Alg { get; }

    private TestKey(string alg, ECDsa? ec, RSA? rsa) => (Alg, _ec, _rsa) = (alg, ec, rsa);

    public static TestKey Es256() => new("ES256", ECDsa.Create(ECCurve.NamedCurves.nistP256), null);
    public static TestKey Es384() => new("ES384", ECDsa.Create(ECCurve.NamedCurves.nistP384), null);
    public static TestKey Rs256() => new("RS256", null, RSA.Create(2048));
    public static TestKey Ps256() => new("PS256", null, RSA.Create(2048));

    /// <summary>The public JWK, written in an order that is not RFC 7638's, so a thumbprint must not hash it as sent.</summary>
    public JsonObject PublicJwk()
    {
        if (_ec is not null)
        {
            var p = _ec.ExportParameters(false);
            var crv = Alg == "ES384" ? "P-384" : "P-256";
            return new JsonObject { ["y"] = B64(p.Q.Y!), ["x"] = B64(p.Q.X!), ["kty"] = "EC", ["crv"] = crv };
        }
        var r = _rsa!.ExportParameters(false);
        return new JsonObject { ["n"] = B64(r.Modulus!), ["kty"] = "RSA", ["e"] = B64(r.Exponent!) };
    }

    /// <summary>The JWK with every private member too: what no proof may carry.</summary>
    public JsonObject PrivateJwk()
    {
        var jwk = PublicJwk();
        if (_ec is not null)
        {
            jwk["d"] = B64(_ec.ExportParameters(true).D!);
            return jwk;
        }
        var p = _rsa!.ExportParameters(true);
        jwk["d"] = B64(p.D!);
        jwk["p"] = B64(p.P!);
        jwk["q"] = B64(p.Q!);
        jwk["dp"] = B64(p.DP!);
        jwk["dq"] = B64(p.DQ!);
        jwk["qi"] = B64(p.InverseQ!);
        return jwk;
    }

    /// <summary>The RFC 7638 thumbprint, computed here from the canonical member order of §3.2.</summary>
    public string Thumbprint()
    {
        var jwk = PublicJwk();
        var canonical = _ec is not null
            ? $"{{\"crv\":\"{jwk["crv"]}\",\"kty\":\"EC\",\"x\":\"{jwk["x"]}\",\"y\":\"{jwk["y"]}\"}}"
            : $"{{\"e\":\"{jwk["e"]}\",\"kty\":\"RSA\",\"n\":\"{jwk["n"]}\"}}";
        return B64(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>
    /// A proof for <paramref name="method"/> <paramref name="htu"/> made at <paramref name="iat"/>. The editors
    /// change the header and the claims after the defaults are set; a member set to null is removed.
    /// </summary>
    public string Proof(string method, string htu, DateTimeOffset iat, string? accessToken = null, string? nonce = null,
        Action<JsonObject>? header = null, Action<JsonObject>? claims = null)
    {
        var h = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = Alg, ["jwk"] = PublicJwk() };
        var c = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = method,
            ["htu"] = htu,
            ["iat"] = iat.ToUnixTimeSeconds(),
        };
        if (nonce is not null) c["nonce"] = nonce;
        if (accessToken is not null) c["ath"] = Ath(accessToken);
        header?.Invoke(h);
        claims?.Invoke(c);
        return Sign(Strip(h), Strip(c));
    }

    /// <summary>This key's signature over the given header and claims, whatever they say.</summary>
    public string Sign(JsonObject header, JsonObject claims)
    {
        var input = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var data = Encoding.ASCII.GetBytes(input);
        // JWS ES256/ES384 (RFC 7518 §3.4) is the raw r || s, .NET's default IEEE P1363 format.
        var signature = Alg switch
        {
            "ES256" => _ec!.SignData(data, HashAlgorithmName.SHA256),
            "ES384" => _ec!.SignData(data, HashAlgorithmName.SHA384),
            "RS256" => _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        };
        return input + "." + B64(signature);
    }

    /// <summary>base64url(SHA-256(ASCII(token))): the <c>ath</c> of a proof for that token (RFC 9449 §4.2).</summary>
    public static string Ath(string accessToken) => B64(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    private static JsonObject Strip(JsonObject node)
    {
        foreach (var name in node.Where(p => p.Value is null).Select(p => p.Key).ToList()) node.Remove(name);
        return node;
    }

    private static string B64(byte[] bytes) => Base64UrlEncoder.Encode(bytes);

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
