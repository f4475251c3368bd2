using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tokens;

/// <summary>What a successful grant hands to <see cref="TokenIssuer"/>.</summary>
public sealed record TokenGrant(
    ApplicationUser User,
    Client Client,
    IReadOnlyList<string> Scopes,
    LinkedDevice Device,
    DateTimeOffset AuthTime,
    string? RefreshFamilyId = null,
    IReadOnlyList<string>? RefreshTokenScopes = null,
    string? Nonce = null,
    string? Jkt = null,
    DateTimeOffset? FamilyExpiresAt = null);

/// <summary>What a grant issued: the response for the client, and the refresh token's row (hash only) to store.</summary>
public sealed record IssuedTokens(TokenResponse Response, RefreshToken? RefreshToken);

/// <summary>The successful token response (RFC 6749 §5.1), serialized in snake_case.</summary>
public sealed record TokenResponse(
    string AccessToken,
    string TokenType,
    int ExpiresIn,
    string Scope,
    string? RefreshToken,
    string? IdToken);

/// <summary>
/// Issues the tokens of a grant: a JWT access token (RFC 9068), an ID token when <c>openid</c> was granted, and an
/// opaque refresh token when <c>offline_access</c> was granted. Every token carries the linked device's id.
/// The refresh token's row is handed to the caller (<see cref="IssuedTokens.RefreshToken"/>), which stores it in the same
/// transaction as the rest of the grant.
/// </summary>
public sealed class TokenIssuer(SigningKeyStore keys, IOptions<TokenOptions> options, IssuerResolver issuers, TimeProvider clock)
{
    public const string DeviceIdClaim = "device_id";

    // Token times come from TimeProvider, not from the handler's own clock.
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public IssuedTokens Issue(HttpRequest request, TokenGrant grant)
    {
        var settings = options.Value;
        var issuer = issuers.Resolve(request);
        var now = clock.GetUtcNow();
        var scope = string.Join(' ', grant.Scopes);

        // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; scope per §2.2.3.
        var accessClaims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = grant.User.Id,
            ["client_id"] = grant.Client.ClientId,
            ["scope"] = scope,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            [JwtRegisteredClaimNames.AuthTime] = grant.AuthTime.ToUnixTimeSeconds(),
            [DeviceIdClaim] = grant.Device.Id,
        };
        // RFC 9449 §6.1: a DPoP-bound token names the key it is bound to and only works with proofs from that key.
        if (grant.Jkt is not null) accessClaims["cnf"] = new Dictionary<string, object> { ["jkt"] = grant.Jkt };
        var accessToken = Handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Issuer = issuer,
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(settings.AccessTokenLifetime).UtcDateTime,
            SigningCredentials = keys.GetSigningCredentials(settings.AccessTokenAlgorithm),
            Claims = accessClaims,
        });

        string? idToken = null;
        if (grant.Scopes.Contains(ScopeCatalog.OpenId))
        {
            // OIDC Core §2: the ID token is for the client (aud = client_id) and says who signed in, and when.
            var claims = UserClaims.For(grant.User, grant.Scopes);
            claims[JwtRegisteredClaimNames.AuthTime] = grant.AuthTime.ToUnixTimeSeconds();
            claims[DeviceIdClaim] = grant.Device.Id;
            if (grant.Nonce is not null) claims["nonce"] = grant.Nonce;
            idToken = Handler.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer,
                Audience = grant.Client.ClientId,
                IssuedAt = now.UtcDateTime,
                Expires = now.Add(settings.IdentityTokenLifetime).UtcDateTime,
                SigningCredentials = keys.GetSigningCredentials(grant.Client.IdTokenSignedResponseAlg ?? settings.IdentityTokenAlgorithm),
                Claims = claims,
            });
        }

        string? refreshToken = null;
        RefreshToken? refreshRow = null;
        var refreshScopes = grant.RefreshTokenScopes ?? grant.Scopes;
        if (refreshScopes.Contains(ScopeCatalog.OfflineAccess))
        {
            refreshToken = OpaqueSecret.New();
            // Absolute end of the family and idle expiry per client (RFC 9700 §4.14.2).
            var familyExpiresAt = grant.FamilyExpiresAt ?? now.AddSeconds(grant.Client.RefreshTokenAbsoluteLifetimeSeconds);
            var idleExpiresAt = now.AddSeconds(grant.Client.RefreshTokenIdleLifetimeSeconds);
            refreshRow = new RefreshToken
            {
                Id = Guid.CreateVersion7(now).ToString("N"),
                TokenHash = OpaqueSecret.Hash(refreshToken),
                FamilyId = grant.RefreshFamilyId ?? Guid.CreateVersion7(now).ToString("N"),
                ClientId = grant.Client.ClientId,
                UserId = grant.User.Id,
                LinkedDeviceId = grant.Device.Id,
                Scope = string.Join(' ', refreshScopes),
                AuthTime = grant.AuthTime,
                CreatedAt = now,
                ExpiresAt = idleExpiresAt < familyExpiresAt ? idleExpiresAt : familyExpiresAt,
                FamilyExpiresAt = familyExpiresAt,
                // RFC 9449 §5: a public client's refresh token is bound to its DPoP key; a confidential client's is
                // already bound to the client's authentication.
                Jkt = grant.Client.Type == ClientType.Public ? grant.Jkt : null,
            };
        }

        return new IssuedTokens(
            new TokenResponse(accessToken, grant.Jkt is null ? "Bearer" : "DPoP", (int)settings.AccessTokenLifetime.TotalSeconds, scope, refreshToken, idToken),
            refreshRow);
    }
}
