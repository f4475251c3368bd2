using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Dpop;

/// <summary>A verified DPoP proof: the RFC 7638 thumbprint of the key that signed it (RFC 9449 §4.3).</summary>
public sealed record DpopProof(string Jkt);

/// <summary>
/// Checks DPoP proofs (RFC 9449 §4.3): exactly one <c>DPoP</c> header holding a JWT with <c>typ</c> <c>dpop+jwt</c>,
/// an accepted asymmetric <c>alg</c>, a public <c>jwk</c> in the header that verifies the signature, the <c>htm</c>
/// and <c>htu</c> of this request, an <c>iat</c> within the window, <c>ath</c> the hash of the access token when one
/// is presented (§7), the server nonce when required (§8), and a <c>jti</c> not seen before (§11.1).
/// </summary>
public sealed class DpopProofValidator(
    IDpopReplayStore replays, DpopNonces nonces, IDpopRequestUri requestUri, IOptions<DpopOptions> options, TimeProvider clock)
{
    /// <summary>Every proof algorithm this validator can check: asymmetric only (§4.3 step 5).</summary>
    public static readonly string[] Algorithms =
        [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256];

    public const string Header = "DPoP";
    public const string NonceHeader = "DPoP-Nonce";
    public const string ProofType = "dpop+jwt";

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>
    /// The outcome: a proof; or an error (<see cref="NonceMissing"/> when the fix is to retry with
    /// <see cref="CurrentNonce"/>, §8); or neither, when the request has no <c>DPoP</c> header.
    /// </summary>
    public sealed record Result(DpopProof? Proof, string? Error, bool NonceMissing = false);

    /// <summary>The algorithms accepted here: <see cref="DpopOptions.Algorithms"/>, or all of <see cref="Algorithms"/>.</summary>
    public IReadOnlyList<string> AcceptedAlgorithms => options.Value.Algorithms is { Length: > 0 } configured ? configured : Algorithms;

    /// <summary>
    /// Validates the request's DPoP header. No header: <c>Result(null, null)</c>, and the caller decides whether a
    /// proof was needed. <paramref name="accessToken"/> is given at resource endpoints, where the proof must be made
    /// for that token (<c>ath</c>, §4.3 step 12); <paramref name="boundJkt"/>, when given, is the thumbprint the token
    /// is bound to (<c>cnf.jkt</c>, §7.1), and a proof signed by any other key is refused before its signature is
    /// even checked.
    /// </summary>
    public async Task<Result> ValidateAsync(HttpRequest request, string? accessToken = null, string? boundJkt = null)
    {
        var headers = request.Headers[Header];
        if (headers.Count == 0) return new(null, null);
        if (headers.Count > 1) return Refuse("Exactly one DPoP header is allowed.");
        var proof = headers.ToString();

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(proof);
        }
        catch (ArgumentException)
        {
            return Refuse("The DPoP proof is not a JWT.");
        }

        if (jwt.Typ != ProofType) return Refuse("The DPoP proof must have typ dpop+jwt.");
        var algorithms = AcceptedAlgorithms;
        if (!algorithms.Contains(jwt.Alg)) return Refuse("The DPoP proof's alg is not an accepted asymmetric algorithm.");

        if (ReadPublicKey(jwt) is not { } key) return Refuse("The DPoP proof's jwk must be a public EC or RSA key.");
        var (jwk, jkt) = key;
        if (boundJkt is not null && !string.Equals(jkt, boundJkt, StringComparison.Ordinal))
            return Refuse("The DPoP proof is signed by another key than the access token is bound to.");

        var signature = await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = jwk,
            ValidAlgorithms = algorithms,
            ValidTypes = [ProofType],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
        });
        if (!signature.IsValid) return Refuse("The DPoP proof's signature does not verify with its jwk.");

        if (!jwt.TryGetPayloadValue<string>("htm", out var htm) || htm != request.Method)
            return Refuse("The DPoP proof's htm does not match the request method.");
        if (!jwt.TryGetPayloadValue<string>("htu", out var htu) || !SameUri(htu, requestUri.For(request)))
            return Refuse("The DPoP proof's htu does not match the request URI.");

        var now = clock.GetUtcNow();
        var window = options.Value.ProofLifetime;
        if (!jwt.TryGetPayloadValue<long>("iat", out var iatSeconds))
            return Refuse("The DPoP proof has no iat.");
        var iat = DateTimeOffset.FromUnixTimeSeconds(iatSeconds);
        if ((now - iat).Duration() > window)
            return Refuse("The DPoP proof's iat is too far from the server's clock.");

        if (accessToken is not null)
        {
            var expected = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
            if (!jwt.TryGetPayloadValue<string>("ath", out var ath) || ath != expected)
                return Refuse("The DPoP proof's ath does not match the access token.");
        }

        if (options.Value.RequireNonce)
        {
            if (!jwt.TryGetPayloadValue<string>("nonce", out var nonce)) return new(null, "A DPoP nonce is required.", NonceMissing: true);
            if (!nonces.IsValid(nonce, now)) return new(null, "The DPoP nonce is not valid any more.", NonceMissing: true);
        }

        if (!jwt.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || jti.Length > 256)
            return Refuse("The DPoP proof needs a jti.");
        // Remembered until iat + window: after that its iat check fails anyway, so it cannot be replayed.
        return await replays.TryUseAsync(jkt, jti, iat + window, now, request.HttpContext.RequestAborted) switch
        {
            DpopReplayCache.Outcome.New => new(new DpopProof(jkt), null),
            DpopReplayCache.Outcome.Replayed => Refuse("The DPoP proof was already used."),
            _ => Refuse("Too many DPoP proofs are in flight to remember this one; try again shortly."),
        };
    }

    /// <summary>The nonce a client should put in its next proof (RFC 9449 §8.1).</summary>
    public string CurrentNonce() => nonces.Current();

    private static Result Refuse(string error) => new(null, error);

    /// <summary>
    /// The header's <c>jwk</c> and its thumbprint, if it is a public EC or RSA key. A private or symmetric key would
    /// prove nothing: anyone holding the proof could sign with it.
    /// </summary>
    private static (JsonWebKey Jwk, string Jkt)? ReadPublicKey(JsonWebToken jwt)
    {
        if (!jwt.TryGetHeaderValue<JsonElement>("jwk", out var element) || element.ValueKind != JsonValueKind.Object) return null;
        JsonWebKey jwk;
        try
        {
            jwk = new JsonWebKey(element.GetRawText());
        }
        catch (ArgumentException)
        {
            return null;
        }
        if (jwk.Kty is not (JsonWebAlgorithmsKeyTypes.EllipticCurve or JsonWebAlgorithmsKeyTypes.RSA)) return null;
        // Every private member of RFC 7518 §6.2.2 and §6.3.2, and a symmetric k, whatever kty claims.
        if (jwk.HasPrivateKey || new[] { jwk.D, jwk.P, jwk.Q, jwk.DP, jwk.DQ, jwk.QI, jwk.K }.Any(m => !string.IsNullOrEmpty(m)) || jwk.Oth.Count > 0)
            return null;
        return JwkThumbprint.TryCompute(jwk, out var jkt) ? (jwk, jkt) : null;
    }

    /// <summary>
    /// §4.3 step 9: compared without query and fragment; scheme and host case-insensitively and default ports
    /// normalized (RFC 3986 §6.2.2, §6.2.3); the path exactly.
    /// </summary>
    private static bool SameUri(string presented, string expected) =>
        Uri.TryCreate(presented, UriKind.Absolute, out var a) && Uri.TryCreate(expected, UriKind.Absolute, out var b)
        && string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port
        && a.AbsolutePath == b.AbsolutePath;
}
