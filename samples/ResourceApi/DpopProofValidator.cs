using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ResourceApi;

/// <summary>
/// Checks the DPoP proof that must come with a DPoP-bound access token (RFC 9449 §4.3 and §7.1): exactly one
/// <c>DPoP</c> header holding a JWT with <c>typ</c> <c>dpop+jwt</c>, an allowed asymmetric <c>alg</c>, a public
/// <c>jwk</c> that verifies its signature and whose RFC 7638 thumbprint is the token's <c>cnf.jkt</c>; <c>htm</c> and
/// <c>htu</c> of this request; <c>iat</c> within the window; <c>ath</c> the hash of the token; a <c>jti</c> not seen
/// before. This API asks for no nonce (§9): the authorization server's nonces protect the token endpoint.
/// </summary>
public sealed class DpopProofValidator(DpopReplayCache replays, IOptions<ResourceApiOptions> options, TimeProvider clock)
{
    public const string Header = "DPoP";

    /// <summary>The proof algorithms accepted, advertised in the <c>algs</c> of our DPoP challenge.</summary>
    public static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>Null when the request's proof is good for <paramref name="accessToken"/>, else why it is not.</summary>
    public async Task<string?> ValidateAsync(HttpRequest request, string accessToken, string jkt)
    {
        var headers = request.Headers[Header];
        if (headers.Count == 0) return "A DPoP proof is required with a DPoP-bound access token.";
        if (headers.Count > 1) return "Exactly one DPoP header is allowed.";
        var proof = headers.ToString();

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(proof);
        }
        catch (ArgumentException)
        {
            return "The DPoP proof is not a JWT.";
        }
        if (jwt.Typ != "dpop+jwt") return "The DPoP proof must have typ dpop+jwt.";
        if (!Algorithms.Contains(jwt.Alg)) return "The DPoP proof's alg is not accepted.";

        if (!jwt.TryGetHeaderValue<JsonElement>("jwk", out var jwkElement) || jwkElement.ValueKind != JsonValueKind.Object)
            return "The DPoP proof must carry its public key in the jwk header.";
        JsonWebKey jwk;
        try
        {
            jwk = new JsonWebKey(jwkElement.GetRawText());
        }
        catch (ArgumentException)
        {
            return "The DPoP proof's jwk is not a JSON Web Key.";
        }
        // A private or symmetric key proves nothing (anyone could have made the proof with it).
        if (jwk.Kty is not (JsonWebAlgorithmsKeyTypes.EllipticCurve or JsonWebAlgorithmsKeyTypes.RSA) || jwk.HasPrivateKey
            || !string.IsNullOrEmpty(jwk.D) || !string.IsNullOrEmpty(jwk.K))
            return "The DPoP proof's jwk must be a public EC or RSA key.";

        // §7.1: the key must be the one the token is bound to. RFC 7638 thumbprint over the required members.
        if (Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()) != jkt)
            return "The DPoP proof is signed by another key than the access token is bound to.";

        var signature = await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = jwk,
            ValidAlgorithms = Algorithms,
            ValidTypes = ["dpop+jwt"],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
        });
        if (!signature.IsValid) return "The DPoP proof's signature does not verify with its jwk.";

        if (!jwt.TryGetPayloadValue<string>("htm", out var htm) || htm != request.Method)
            return "The DPoP proof's htm does not match the request method.";
        if (!jwt.TryGetPayloadValue<string>("htu", out var htu) || !SameUri(htu, RequestUri(request)))
            return "The DPoP proof's htu does not match the request URI.";

        var now = clock.GetUtcNow();
        var window = options.Value.DpopProofLifetime;
        if (!jwt.TryGetPayloadValue<long>("iat", out var iatSeconds))
            return "The DPoP proof has no iat.";
        var iat = DateTimeOffset.FromUnixTimeSeconds(iatSeconds);
        if ((now - iat).Duration() > window)
            return "The DPoP proof's iat is too far from the server's clock.";

        // §4.3 step 12: the proof is for this very token, so a proof made for another token cannot be reused with it.
        var expectedAth = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        if (!jwt.TryGetPayloadValue<string>("ath", out var ath) || ath != expectedAth)
            return "The DPoP proof's ath does not match the access token.";

        if (!jwt.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || jti.Length > 256)
            return "The DPoP proof needs a jti.";
        // §11.1: a proof is used once. It can pass the iat check until iat + window; remembered that long.
        return replays.TryUse(jkt + ":" + jti, iat + window, now) switch
        {
            DpopReplayCache.Outcome.New => null,
            DpopReplayCache.Outcome.Replayed => "The DPoP proof was already used.",
            _ => "Too many DPoP proofs at once; try again shortly.",
        };
    }

    /// <summary>The URI this request was made to, as the client saw it: scheme, host, port, path base and path.</summary>
    private static string RequestUri(HttpRequest request) =>
        $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}{request.Path.Value}";

    /// <summary>§4.3 step 9: compared without query and fragment; scheme and host case-insensitively, default ports normalized.</summary>
    private static bool SameUri(string presented, string expected) =>
        Uri.TryCreate(presented, UriKind.Absolute, out var a) && Uri.TryCreate(expected, UriKind.Absolute, out var b)
        && string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port
        && a.AbsolutePath == b.AbsolutePath;
}

/// <summary>
/// The ids of the DPoP proofs seen, each until its proof could no longer pass the <c>iat</c> check; bounded in size.
/// In memory, per process: with several instances of the API, a shared store (or sticky sessions) would be needed to
/// stop a proof being replayed against another instance.
/// </summary>
public sealed class DpopReplayCache(IOptions<ResourceApiOptions> options)
{
    public enum Outcome { New, Replayed, Full }

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Lock _sweep = new();

    public Outcome TryUse(string key, DateTimeOffset keepUntil, DateTimeOffset now)
    {
        if (_seen.Count >= options.Value.DpopReplayCacheSize) Sweep(now);
        // Full of proofs that are all still valid: refuse rather than forget one, which would let it be replayed.
        if (_seen.Count >= options.Value.DpopReplayCacheSize) return Outcome.Full;

        if (_seen.TryAdd(key, keepUntil)) return Outcome.New;
        // An entry past its time could not be replayed anyway (its iat is out of the window); it is simply stale.
        return _seen.TryGetValue(key, out var until) && until < now && _seen.TryUpdate(key, keepUntil, until)
            ? Outcome.New
            : Outcome.Replayed;
    }

    private void Sweep(DateTimeOffset now)
    {
        lock (_sweep)
        {
            foreach (var (key, until) in _seen)
                if (until < now) _seen.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, until));
        }
    }
}
