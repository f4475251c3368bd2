using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ResourceApi;

/// <summary>A verified access token: its claims and, when it is DPoP-bound, the thumbprint of its key.</summary>
public sealed record ValidAccessToken(JsonWebToken Jwt, IReadOnlyList<Claim> Claims, string? Jkt);

/// <summary>
/// Verifies JWT access tokens (RFC 9068 §4) with the authorization server's published keys: <c>typ</c> <c>at+jwt</c>,
/// <c>alg</c> ES256 or RS256 only, the signature, <c>iss</c> = the authority, <c>aud</c> = our audience, and
/// <c>exp</c>/<c>nbf</c> by our clock with a small skew. Returns the reason for a refusal, never throws for a bad token.
/// </summary>
public sealed class AccessTokenValidator(AuthorityKeys authority, IOptions<ResourceApiOptions> options, TimeProvider clock)
{
    /// <summary>The signing algorithms accepted for access tokens: what the authorization server signs with.</summary>
    public static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    // RFC 9068 §4: typ "at+jwt"; "application/at+jwt" is the same media type written in full.
    private static readonly string[] TokenTypes = ["at+jwt", "application/at+jwt"];

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<(ValidAccessToken? Token, string? Refusal)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!Handler.CanReadToken(token)) return (null, "The access token is not a JWT.");
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return (null, "The access token is not a JWT.");
        }
        // Checked before any key is looked up, so a token of the wrong kind cannot make us fetch keys.
        if (!TokenTypes.Contains(jwt.Typ)) return (null, "The token is not an access token (typ must be at+jwt).");
        if (!Algorithms.Contains(jwt.Alg)) return (null, "The access token's alg is not accepted.");

        var keys = await authority.GetAsync(string.IsNullOrEmpty(jwt.Kid) ? null : jwt.Kid, cancellationToken);
        var settings = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        var skew = settings.ClockSkew;
        var result = await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = keys.Issuer,
            ValidAudience = settings.Audience,
            ValidTypes = TokenTypes,
            ValidAlgorithms = Algorithms,
            IssuerSigningKeys = keys.Keys,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            // Time comes from TimeProvider, not from the handler's own clock.
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } exp && now < exp + skew && (notBefore is not { } nbf || nbf <= now + skew),
        });
        if (!result.IsValid)
        {
            return (null, result.Exception switch
            {
                SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException or SecurityTokenNoExpirationException => "The access token has expired or is not valid yet.",
                SecurityTokenInvalidAudienceException => "The access token is not meant for this API.",
                SecurityTokenInvalidIssuerException => "The access token was issued by another authorization server.",
                _ => "The access token's signature does not verify.",
            });
        }

        // RFC 9068 §2.2: sub and client_id are required.
        var claims = result.ClaimsIdentity.Claims.ToList();
        if (!claims.Any(c => c.Type == JwtRegisteredClaimNames.Sub) || !claims.Any(c => c.Type == "client_id"))
            return (null, "The access token lacks sub or client_id.");

        // RFC 9449 §6.1: cnf.jkt names the key the token is bound to. Another confirmation method (mTLS's x5t#S256)
        // cannot be checked here, so such a token is refused rather than treated as a bearer token.
        string? jkt = null;
        if (jwt.TryGetPayloadValue<Dictionary<string, object>>("cnf", out var cnf))
        {
            var thumbprint = cnf.TryGetValue("jkt", out var value)
                ? value switch { string s => s, JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(), _ => null }
                : null;
            if (string.IsNullOrEmpty(thumbprint))
                return (null, "The access token is bound by a confirmation method this API does not support.");
            jkt = thumbprint;
        }
        return (new ValidAccessToken(jwt, claims, jkt), null);
    }
}
