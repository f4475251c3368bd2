using System.Security.Claims;
using AuthServer.Data;
using AuthServer.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>A verified access token of ours.</summary>
public sealed record ValidatedAccessToken(string Subject, string ClientId, string DeviceId, IReadOnlyList<string> Scopes);

/// <summary>
/// Verifies the access tokens this server issued, for its own protected endpoints: signature against the published
/// keys, <c>typ</c> <c>at+jwt</c> (RFC 9068 §4), issuer, audience and lifetime by our clock, and that the device it
/// was issued to has not been logged out.
/// </summary>
public sealed class AccessTokenValidator(
    SigningKeyStore keys, IssuerResolver issuers, IOptions<TokenOptions> options, AuthServerDbContext db, TimeProvider clock)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<ValidatedAccessToken?> ValidateAsync(HttpRequest request, string token)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuers.Resolve(request),
            ValidAudience = options.Value.Audience,
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = SigningKeyStore.Algorithms,
            IssuerSigningKeys = keys.ValidationKeys,
            RequireExpirationTime = true,
            // Lifetimes are judged by TimeProvider, like everything else here, with no extra skew: we issued it.
            LifetimeValidator = (notBefore, expires, _, _) => (notBefore ?? DateTime.MinValue) <= now && now < expires,
        });
        if (!result.IsValid) return null;

        var claims = result.ClaimsIdentity;
        string? Claim(string type) => claims.FindFirst(type)?.Value;
        if (Claim(JwtRegisteredClaimNames.Sub) is not { } subject
            || Claim("client_id") is not { } clientId
            || Claim(TokenIssuer.DeviceIdClaim) is not { } deviceId)
            return null;

        // Logging a device out kills its tokens at once, not only at their expiry.
        var deviceActive = await db.LinkedDevices.AnyAsync(d => d.Id == deviceId && d.UserId == subject && d.RevokedAt == null);
        if (!deviceActive) return null;

        var scopes = (Claim("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new ValidatedAccessToken(subject, clientId, deviceId, scopes);
    }
}
