using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthServer.Cli.Cache;
using AuthServer.Dpop;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Cli.Protocol;

/// <summary>
/// The CLI's DPoP key (RFC 9449): one ES256 key pair per user, made on first use and kept in a mode-600 file beside
/// the token cache, so that a copied refresh token is useless without it (§5). Its thumbprint comes from the shared
/// <see cref="JwkThumbprint"/>, the same code the server checks <c>cnf.jkt</c> with.
/// </summary>
public sealed class DpopKey : IDisposable
{
    private readonly ECDsa _key;
    private readonly TimeProvider _time;

    private DpopKey(ECDsa key, TimeProvider time)
    {
        _key = key;
        _time = time;
        var parameters = key.ExportParameters(includePrivateParameters: false);
        PublicJwk = new JsonObject
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
        var jwk = new JsonWebKey { Kty = "EC", Crv = "P-256", X = PublicJwk["x"]!.GetValue<string>(), Y = PublicJwk["y"]!.GetValue<string>() };
        Thumbprint = JwkThumbprint.TryCompute(jwk, out var thumbprint) ? thumbprint : throw new InvalidOperationException("The EC key has no thumbprint.");
    }

    public JsonObject PublicJwk { get; }

    /// <summary>The RFC 7638 thumbprint, as the server puts it in <c>cnf.jkt</c>.</summary>
    public string Thumbprint { get; }

    public static DpopKey LoadOrCreate(TokenCache cache, TimeProvider time)
    {
        var key = ECDsa.Create();
        if (File.Exists(cache.DpopKeyPath))
        {
            try
            {
                key.ImportFromPem(File.ReadAllText(cache.DpopKeyPath));
            }
            catch (ArgumentException ex)
            {
                key.Dispose();
                throw new CliException(ExitCodes.Error, $"The DPoP key {cache.DpopKeyPath} cannot be read ({ex.Message}).",
                    "Delete it and the token cache beside it, then sign in again.");
            }
            return new DpopKey(key, time);
        }
        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        cache.WriteSecretFile(cache.DpopKeyPath, key.ExportPkcs8PrivateKeyPem());
        return new DpopKey(key, time);
    }

    /// <summary>
    /// A proof for one request (RFC 9449 §4.2): <c>htu</c> without query or fragment, <c>ath</c> when an access token
    /// goes with it (§4.3 step 10), the server's latest nonce when it gave one (§8).
    /// </summary>
    public string Proof(string method, Uri url, string? nonce, string? accessToken = null)
    {
        var header = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = PublicJwk.DeepClone() };
        var payload = new JsonObject
        {
            ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            ["htm"] = method,
            ["htu"] = url.GetLeftPart(UriPartial.Path),
            ["iat"] = _time.GetUtcNow().ToUnixTimeSeconds(),
        };
        if (nonce is not null) payload["nonce"] = nonce;
        if (accessToken is not null) payload["ath"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        var signingInput = $"{Base64UrlEncoder.Encode(header.ToJsonString())}.{Base64UrlEncoder.Encode(payload.ToJsonString())}";
        // .NET signs ECDSA in the IEEE P1363 form (r ‖ s) that JWS ES256 requires (RFC 7518 §3.4).
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return $"{signingInput}.{Base64UrlEncoder.Encode(signature)}";
    }

    public void Dispose() => _key.Dispose();
}
