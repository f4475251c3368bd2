using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Protocol;

/// <summary>
/// <c>POST /connect/revoke</c>: token revocation (RFC 7009). A refresh token takes its whole family and its device's
/// session with it (the access tokens of that grant stop working too); an access token alone goes on the revocation
/// list until it would have expired. An unknown or already invalid token still
/// answers 200 (§2.2): the client's goal, a token that no longer works, is met.
/// </summary>
public static class RevocationEndpoint
{
    public const string Path = "/connect/revoke";

    public static async Task<IResult> HandleAsync(
        HttpContext context, ClientAuthenticator authenticator, AuthServerDbContext db, AccessTokenValidator validator, TimeProvider clock)
    {
        var (request, client, error) = await authenticator.ReadAndAuthenticateAsync(context);
        if (error is not null) return error;
        if (request!["token"] is not { } token)
            return OAuthError.InvalidRequest("token is required.");

        var now = clock.GetUtcNow();
        var cancellationToken = context.RequestAborted;
        // §2.1: the hint only says where to look first; both kinds are tried.
        var refreshFirst = request["token_type_hint"] != "access_token";
        for (var pass = 0; pass < 2; pass++)
        {
            var (found, refused) = (pass == 0) == refreshFirst
                ? await RevokeRefreshTokenAsync(db, token, client!, now, cancellationToken)
                : await RevokeAccessTokenAsync(db, validator, context.Request, token, client!, cancellationToken);
            if (refused is not null) return refused;
            if (found) break;
        }
        ProtocolResponse.NoStore(context.Response);
        return Results.Ok();
    }

    private static async Task<(bool Found, OAuthError? Refused)> RevokeRefreshTokenAsync(AuthServerDbContext db, string token, Client client, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var hash = OpaqueSecret.Hash(token);
        var found = await db.RefreshTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (found is null) return (false, null);
        // §2.1: a client may only revoke its own tokens.
        if (found.ClientId != client.ClientId)
            return (true, OAuthError.UnauthorizedClient("This token was not issued to this client."));
        // §2.1: the grant's refresh tokens and its access tokens end together. A grant has its own linked device, so
        // logging that device out revokes them all at once wherever they are checked (our endpoints, introspection);
        // a device already logged out had its tokens revoked then.
        await LinkedDevices.LogOutAsync(db, found.LinkedDeviceId, now, found.UserId, cancellationToken);
        return (true, null);
    }

    private static async Task<(bool Found, OAuthError? Refused)> RevokeAccessTokenAsync(
        AuthServerDbContext db, AccessTokenValidator validator, HttpRequest request, string token, Client client, CancellationToken cancellationToken)
    {
        if (await validator.ValidateAsync(request, token) is not { } access) return (false, null);
        if (access.ClientId != client.ClientId)
            return (true, OAuthError.UnauthorizedClient("This token was not issued to this client."));
        // The validation just checked that this jti is not on the list yet.
        db.RevokedAccessTokens.Add(new RevokedAccessToken { Jti = access.Jti, ExpiresAt = access.Jwt.ValidTo });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Revoked concurrently: the goal is met.
        }
        return (true, null);
    }
}
