using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AuthServer.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>A verified DPoP proof: the thumbprint of the key that signed it (RFC 9449 §4.3, RFC 7638).</summary>
public sealed record DpopProof(string Jkt);

/// <summary>The <c>Dpop</c> configuration section.</summary>
public sealed class DpopOptions
{
    public const string Section = "Dpop";

    /// <summary>RFC 9449 §8: proofs must carry a fresh server nonce, so a proof cannot be made ahead of time.</summary>
    public bool RequireNonce { get; set; } = true;

    /// <summary>How far a proof's <c>iat</c> may be from our clock.</summary>
    public TimeSpan ProofLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many proof ids the replay cache keeps at most, per node.</summary>
    public int ReplayCacheSize { get; set; } = 100_000;
}

/// <summary>
/// Checks DPoP proofs (RFC 9449 §4.3): <c>typ</c> <c>dpop+jwt</c>, an allow-listed asymmetric <c>alg</c>, a public
/// <c>jwk</c> in the header that verifies the signature, <c>htm</c>/<c>htu</c> of this request, <c>iat</c> within the
/// window, a <c>jti</c> not seen before, the server nonce when required, and <c>ath</c> when an access token is presented.
/// </summary>
public sealed class DpopProofValidator(IssuerResolver issuers, SigningKeyStore keys, IOptions<DpopOptions> options, TimeProvider clock)
{
    public static readonly string[] Algorithms =
        [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256];

    public const string Header = "DPoP";
    public const string NonceHeader = "DPoP-Nonce";
    private static readonly TimeSpan NonceWindow = TimeSpan.FromMinutes(5);
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private int _seenCount;

    public sealed record Result(DpopProof? Proof, string? Error, bool NonceMissing = false);

    /// <summary>
    /// Validates the request's DPoP header. No header: <c>Result(null, null)</c>. <paramref name="accessToken"/> is
    /// given at resource endpoints, where the proof must also bind that token (<c>ath</c>, §4.3 step 12).
    /// </summary>
    public async Task<Result> ValidateAsync(HttpRequest request, string? accessToken = null)
    {
        var headers = request.Headers[Header];
        if (headers.Count == 0) return new(null, null);
        if (headers.Count > 1) return new(null, "Exactly one DPoP header is allowed.");
        var proof = headers.ToString();

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(proof);
        }
        catch (ArgumentException)
        {
            return new(null, "The DPoP proof is not a JWT.");
        }

        if (jwt.Typ != "dpop+jwt") return new(null, "The DPoP proof must have typ dpop+jwt.");
        if (!Algorithms.Contains(jwt.Alg)) return new(null, "The DPoP proof's alg is not an allowed asymmetric algorithm.");
        if (!jwt.TryGetHeaderValue<System.Text.Json.JsonElement>("jwk", out var jwkElement) || jwkElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            return new(null, "The DPoP proof must carry its public key in the jwk header.");
        JsonWebKey jwk;
        try
        {
            jwk = new JsonWebKey(jwkElement.GetRawText());
        }
        catch (ArgumentException)
        {
            return new(null, "The DPoP proof's jwk is not valid.");
        }
        // A private or symmetric key in the header would be a gift to an attacker and proves nothing.
        if (jwk.Kty is not ("EC" or "RSA") || jwk.HasPrivateKey || !string.IsNullOrEmpty(jwk.D) || !string.IsNullOrEmpty(jwk.K))
            return new(null, "The DPoP proof's jwk must be a public EC or RSA key.");

        var validation = await Handler.ValidateTokenAsync(proof, new TokenValidationParameters
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
        if (!validation.IsValid) return new(null, "The DPoP proof's signature does not verify with its jwk.");

        if (!jwt.TryGetPayloadValue<string>("htm", out var htm) || htm != request.Method)
            return new(null, "The DPoP proof's htm does not match the request method.");
        if (!jwt.TryGetPayloadValue<string>("htu", out var htu) || !SameUri(htu, issuers.Resolve(request) + request.Path))
            return new(null, "The DPoP proof's htu does not match the request URI.");

        var now = clock.GetUtcNow();
        if (!jwt.TryGetPayloadValue<long>("iat", out var iat)
            || Math.Abs((now - DateTimeOffset.FromUnixTimeSeconds(iat)).TotalSeconds) > options.Value.ProofLifetime.TotalSeconds)
            return new(null, "The DPoP proof's iat is missing or too far from the server's clock.");

        if (accessToken is not null)
        {
            var expected = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
            if (!jwt.TryGetPayloadValue<string>("ath", out var ath) || ath != expected)
                return new(null, "The DPoP proof's ath does not match the access token.");
        }

        if (options.Value.RequireNonce)
        {
            if (!jwt.TryGetPayloadValue<string>("nonce", out var nonce)) return new(null, "A DPoP nonce is required.", NonceMissing: true);
            if (!IsValidNonce(nonce, now)) return new(null, "The DPoP nonce is not valid any more.", NonceMissing: true);
        }

        var jkt = Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
        if (!jwt.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || jti.Length > 256)
            return new(null, "The DPoP proof needs a jti.");
        if (!Remember(jkt + ":" + jti, now)) return new(null, "The DPoP proof was already used.");

        return new(new DpopProof(jkt), null);
    }

    /// <summary>
    /// Stateless nonces every node accepts: an HMAC of the current five-minute window under a key derived from the
    /// shared signing key, so no node has to store or share them. The current and the previous window are valid.
    /// </summary>
    public string CurrentNonce() => NonceFor(clock.GetUtcNow().ToUnixTimeSeconds() / (long)NonceWindow.TotalSeconds);

    private bool IsValidNonce(string nonce, DateTimeOffset now)
    {
        var window = now.ToUnixTimeSeconds() / (long)NonceWindow.TotalSeconds;
        return DeviceFlow.OpaqueSecret.FixedTimeEquals(nonce, NonceFor(window)) || DeviceFlow.OpaqueSecret.FixedTimeEquals(nonce, NonceFor(window - 1));
    }

    private string NonceFor(long window) =>
        Base64UrlEncoder.Encode(HMACSHA256.HashData(keys.NonceKey, BitConverter.GetBytes(window)));


    /// <summary>htu compares without query and fragment; scheme and host are case-insensitive (RFC 9449 §4.3 step 9).</summary>
    private static bool SameUri(string presented, string expected) =>
        Uri.TryCreate(presented, UriKind.Absolute, out var a) && Uri.TryCreate(expected, UriKind.Absolute, out var b)
        && Uri.Compare(a, b, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
        && a.AbsolutePath == b.AbsolutePath;

    /// <summary>The replay cache: proof ids are kept until their proof could no longer pass the iat check.</summary>
    private bool Remember(string key, DateTimeOffset now)
    {
        var expiresAt = now + options.Value.ProofLifetime * 2;
        if (!_seen.TryAdd(key, expiresAt)) return false;
        // A counter, not _seen.Count, which takes every lock of the dictionary: this runs on every proof.
        if (Interlocked.Increment(ref _seenCount) > options.Value.ReplayCacheSize)
        {
            foreach (var (seenKey, until) in _seen)
                if (until < now && _seen.TryRemove(seenKey, out _)) Interlocked.Decrement(ref _seenCount);
        }
        return true;
    }
}
