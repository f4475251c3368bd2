using System.Security.Claims;
using AuthServer.Data;
using AuthServer.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>A verified access token of ours.</summary>
public sealed record ValidatedAccessToken(
    string Subject, string ClientId, string DeviceId, IReadOnlyList<string> Scopes, string? Jkt, string Jti, JsonWebToken Jwt);

/// <summary>Why a request to a protected endpoint was refused: the RFC 6750 §3.1 / RFC 9449 §7.1 error, or none (no token).</summary>
public sealed record TokenRefusal(string? Error, string? Description, string Scheme, string? DpopNonce = null);

/// <summary>
/// Verifies the access tokens this server issued, for its own protected endpoints: signature against the published
/// keys, <c>typ</c> <c>at+jwt</c> (RFC 9068 §4), issuer, audience and lifetime by our clock, and that the device it
/// was issued to has not been logged out.
/// </summary>
public sealed class AccessTokenValidator(
    SigningKeyStore keys, IssuerResolver issuers, IOptions<TokenOptions> options, SqliteLanes lanes, DpopProofValidator dpop,
    VerifiedAccessTokens verifiedTokens, TimeProvider clock)
{
    /// <summary>
    /// Authenticates a request to one of our protected endpoints: <c>Authorization: Bearer</c> (RFC 6750 §2.1), or
    /// <c>Authorization: DPoP</c> with a proof bound to the token (RFC 9449 §7). A DPoP-bound token presented as a
    /// plain Bearer token is refused: without the proof it is just a stolen string.
    /// </summary>
    public async Task<(ValidatedAccessToken? Token, TokenRefusal? Refusal)> AuthenticateAsync(HttpRequest request, string? tokenFromBody = null)
    {
        var header = request.Headers.Authorization.ToString();
        var space = header.IndexOf(' ');
        var scheme = space > 0 ? header[..space] : "";
        var token = space > 0 ? header[(space + 1)..].Trim() : null;
        if (string.Equals(scheme, "Bearer", StringComparison.OrdinalIgnoreCase)) scheme = "Bearer";
        else if (string.Equals(scheme, "DPoP", StringComparison.OrdinalIgnoreCase)) scheme = "DPoP";
        else (scheme, token) = ("Bearer", header.Length == 0 ? tokenFromBody : null);

        if (string.IsNullOrEmpty(token)) return (null, new TokenRefusal(null, null, "Bearer"));
        var validated = await ValidateAsync(request, token);
        if (validated is null) return (null, new TokenRefusal("invalid_token", "The access token is not valid, has expired, or its device was logged out.", scheme));

        if (validated.Jkt is null)
        {
            return scheme == "DPoP"
                ? (null, new TokenRefusal("invalid_token", "This access token is not DPoP-bound; send it as a Bearer token.", "DPoP"))
                : (validated, null);
        }
        if (scheme != "DPoP")
            return (null, new TokenRefusal("invalid_token", "This access token is DPoP-bound: use the DPoP scheme with a proof.", "DPoP"));

        var proof = await dpop.ValidateAsync(request, token);
        if (proof.NonceMissing)
            return (null, new TokenRefusal("use_dpop_nonce", proof.Error, "DPoP", dpop.CurrentNonce()));
        if (proof.Proof is null)
            return (null, new TokenRefusal("invalid_dpop_proof", proof.Error ?? "A DPoP proof is required.", "DPoP"));
        if (proof.Proof.Jkt != validated.Jkt)
            return (null, new TokenRefusal("invalid_dpop_proof", "The DPoP proof is signed by another key than the token is bound to.", "DPoP"));
        return (validated, null);
    }

    /// <summary>The 401 challenge for a refusal (RFC 6750 §3, RFC 9449 §7.1).</summary>
    public static void Challenge(HttpResponse response, TokenRefusal refusal)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 7235 §2.1: the scheme, a space, then comma-separated parameters.
        var parameters = new List<string>();
        if (refusal.Scheme == "DPoP")
        {
            var algorithms = response.HttpContext.RequestServices.GetRequiredService<DpopProofValidator>().AcceptedAlgorithms;
            parameters.Add($"algs=\"{string.Join(' ', algorithms)}\"");
        }
        if (refusal.Error is not null)
        {
            parameters.Add($"error=\"{refusal.Error}\"");
            parameters.Add($"error_description=\"{refusal.Description}\"");
        }
        var challenge = parameters.Count == 0 ? refusal.Scheme : $"{refusal.Scheme} {string.Join(", ", parameters)}";
        response.Headers.WWWAuthenticate = challenge;
        if (refusal.DpopNonce is not null) response.Headers[DpopProofValidator.NonceHeader] = refusal.DpopNonce;
    }

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<ValidatedAccessToken?> ValidateAsync(HttpRequest request, string token)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var issuer = issuers.Resolve(request);
        var validationKeys = keys.ValidationKeys;
        var verified = verifiedTokens.Find(issuer, token, validationKeys) ?? await VerifyAsync(issuer, token, validationKeys);
        // Lifetimes are judged by TimeProvider, like everything else here, with no extra skew: we issued it.
        if (verified is null || !(verified.NotBefore <= now && now < verified.Expires)) return null;

        // Logging a device out, or revoking the token (RFC 7009), ends it at once, not only at its expiry.
        var validated = verified.Token;
        using var lane = await lanes.RentAsync(request.HttpContext.RequestAborted);
        return GrantSql.IsAccessTokenActive(lane, validated.DeviceId, validated.Subject, validated.Jti) ? validated : null;
    }

    /// <summary>Signature against the published keys, <c>typ</c>, issuer, audience, and the claims we need.</summary>
    private async Task<VerifiedAccessTokens.Entry?> VerifyAsync(string issuer, string token, IReadOnlyList<SecurityKey> validationKeys)
    {
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = options.Value.Audience,
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = SigningKeyStore.Algorithms,
            IssuerSigningKeys = validationKeys,
            RequireExpirationTime = true,
            // The lifetime is checked by the caller on every use, against the server's clock.
            ValidateLifetime = false,
        });
        if (!result.IsValid) return null;

        var claims = result.ClaimsIdentity;
        string? Claim(string type) => claims.FindFirst(type)?.Value;
        if (Claim(JwtRegisteredClaimNames.Sub) is not { } subject
            || Claim("client_id") is not { } clientId
            || Claim(TokenIssuer.DeviceIdClaim) is not { } deviceId)
            return null;

        var scopes = (Claim("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var jwt = (JsonWebToken)result.SecurityToken;
        string? jkt = null;
        if (jwt.TryGetPayloadValue<Dictionary<string, object>>("cnf", out var cnf) && cnf.TryGetValue("jkt", out var value))
            jkt = value?.ToString();
        var entry = new VerifiedAccessTokens.Entry(
            new ValidatedAccessToken(subject, clientId, deviceId, scopes, jkt, Claim(JwtRegisteredClaimNames.Jti) ?? "", jwt),
            jwt.ValidFrom == DateTime.MinValue ? DateTime.MinValue : jwt.ValidFrom, jwt.ValidTo, validationKeys);
        verifiedTokens.Add(issuer, token, entry);
        return entry;
    }
}
