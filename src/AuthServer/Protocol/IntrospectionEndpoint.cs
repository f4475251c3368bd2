using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Protocol;

/// <summary>
/// <c>POST /connect/introspect</c>: token introspection (RFC 7662) for resource servers, which are confidential clients
/// and must authenticate (§2.1). Revoked tokens, tokens of logged-out devices and expired tokens are
/// <c>{"active": false}</c>, with nothing else said (§2.2).
/// </summary>
public static class IntrospectionEndpoint
{
    public const string Path = "/connect/introspect";

    public static async Task<IResult> HandleAsync(
        HttpContext context, ClientAuthenticator authenticator, AuthServerDbContext db, AccessTokenValidator validator, TimeProvider clock)
    {
        var (request, client, error) = await authenticator.ReadAndAuthenticateAsync(context);
        if (error is not null) return error;
        if (client!.Type != ClientType.Confidential)
            return OAuthError.InvalidClient("Only confidential clients (resource servers) may introspect tokens.");
        if (request!["token"] is not { } token)
            return OAuthError.InvalidRequest("token is required.");

        if (await validator.ValidateAsync(context.Request, token) is { } access)
        {
            var jwt = access.Jwt;
            var body = new Dictionary<string, object>
            {
                ["active"] = true,
                ["scope"] = string.Join(' ', access.Scopes),
                ["client_id"] = access.ClientId,
                ["sub"] = access.Subject,
                ["token_type"] = access.Jkt is null ? "Bearer" : "DPoP",
                ["exp"] = new DateTimeOffset(jwt.ValidTo).ToUnixTimeSeconds(),
                ["iat"] = new DateTimeOffset(jwt.IssuedAt).ToUnixTimeSeconds(),
                ["nbf"] = new DateTimeOffset(jwt.ValidFrom).ToUnixTimeSeconds(),
                ["aud"] = jwt.Audiences.ToArray(),
                ["iss"] = jwt.Issuer,
                ["jti"] = jwt.Id,
                [TokenIssuer.DeviceIdClaim] = access.DeviceId,
            };
            // RFC 9449 §6.2: the resource server learns which key the token is bound to.
            if (access.Jkt is not null) body["cnf"] = new Dictionary<string, string> { ["jkt"] = access.Jkt };
            return ProtocolResponse.Json(body);
        }

        var hash = OpaqueSecret.Hash(token);
        var now = clock.GetUtcNow();
        var refresh = await db.RefreshTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, context.RequestAborted);
        // A refresh token is only described to the client it belongs to.
        if (refresh is not null && refresh.ClientId == client.ClientId && refresh.RevokedAt is null && refresh.ConsumedAt is null
            && now < refresh.ExpiresAt
            && await db.LinkedDevices.AnyAsync(d => d.Id == refresh.LinkedDeviceId && d.RevokedAt == null, context.RequestAborted))
        {
            return ProtocolResponse.Json(new Dictionary<string, object>
            {
                ["active"] = true,
                ["scope"] = refresh.Scope,
                ["client_id"] = refresh.ClientId,
                ["sub"] = refresh.UserId,
                ["exp"] = refresh.ExpiresAt.ToUnixTimeSeconds(),
                ["iat"] = refresh.CreatedAt.ToUnixTimeSeconds(),
                [TokenIssuer.DeviceIdClaim] = refresh.LinkedDeviceId,
            });
        }
        return ProtocolResponse.Json(new Dictionary<string, object> { ["active"] = false });
    }
}
