using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AuthServer.Protocol;

/// <summary>
/// The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2): every use consumes the
/// token and issues its successor in the same family. Presenting a consumed token again within a short leeway
/// replaces the successor (its response was probably lost); after the leeway it is reuse, and the whole family is
/// revoked, since either the client or an attacker holds a stolen token.
/// </summary>
public sealed class RefreshTokenGrant(
    AuthServerDbContext db,
    SqliteLanes lanes,
    SqliteWriteGate gate,
    TokenIssuer issuer,
    IOptions<Hosting.TokenOptions> options,
    TimeProvider clock,
    ILogger<RefreshTokenGrant> logger)
{
    private static readonly OAuthError Invalid = OAuthError.InvalidGrant("The refresh token is not valid.");

    public async Task<IResult> HandleAsync(HttpContext context, ProtocolRequest request, Client client, DpopProof? dpop)
    {
        var cancellationToken = context.RequestAborted;
        var presented = request["refresh_token"];
        if (presented is null)
            return OAuthError.InvalidRequest("refresh_token is required.");

        // The token, its device and its account in one read: this runs on every refresh. A lane is held only while
        // statements run, never while signing.
        GrantSql.Presented? found;
        using (var reading = await lanes.RentAsync(cancellationToken))
            found = GrantSql.FindRefreshToken(reading, OpaqueSecret.Hash(presented));
        var token = found?.Token;
        var now = clock.GetUtcNow();
        // §6 / §10.4: the token must be bound to the client presenting it, not revoked, and within its family's life.
        if (token is null || token.ClientId != client.ClientId || token.RevokedAt is not null || now >= token.FamilyExpiresAt)
            return Invalid;
        // RFC 9449 §5: a bound refresh token needs a proof from its key.
        if (token.Jkt is not null && dpop?.Jkt != token.Jkt)
            return OAuthError.InvalidDpopProof("This refresh token is bound to a DPoP key: send a proof made with it.");

        var retry = false;
        if (token.ConsumedAt is { } consumedAt)
        {
            retry = now - consumedAt <= options.Value.RefreshTokenReuseLeeway && token.ReplacedById is not null;
            if (!retry) return await RevokeFamilyAsync(token, now, cancellationToken);
        }
        else if (now >= token.ExpiresAt)
        {
            return OAuthError.InvalidGrant("The refresh token expired after a period without use.");
        }

        var device = found!.Device;
        if (device is null || device.RevokedAt is not null)
            return OAuthError.InvalidGrant("This device has been logged out.");
        if (found.User is not { } user || Accounts.IsLockedOut(user, now))
            return OAuthError.InvalidGrant("The account is not available.");

        // §6: a narrower scope may be asked for, never a wider one.
        var original = token.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var scopes = request.Scopes ?? original;
        if (scopes.Except(original).Any())
            return OAuthError.InvalidScope("The requested scope exceeds the scope originally granted.");

        // §6: the new refresh token keeps exactly the original scope, even when this access token asks for less.
        var (response, issued) = issuer.Issue(context.Request, new TokenGrant(
            user, client, scopes, device, token.AuthTime, token.FamilyId, RefreshTokenScopes: original,
            Jkt: dpop?.Jkt, FamilyExpiresAt: token.FamilyExpiresAt));
        // The original scope, which the successor keeps, held offline_access: that is how this token came to exist.
        var successor = issued ?? throw new InvalidOperationException("A refresh token's successor was not issued.");

        using (await gate.EnterAsync(cancellationToken))
        using (var lane = await lanes.RentAsync(cancellationToken))
        {
            lane.Begin();
            // One conditional UPDATE decides between concurrent uses. A first use consumes the token and names its
            // successor; a retry within the leeway revokes the successor that was never used, so the family keeps
            // exactly one live token.
            var won = retry
                ? GrantSql.Replace(lane, token.Id, token.ReplacedById!, successor.Id, now)
                : GrantSql.Consume(lane, token.Id, successor.Id, now);
            // The device is touched only while it is still signed in: a logout that committed since the read wins.
            var signedIn = won && GrantSql.TouchDevice(lane, device.Id, now,
                context.Connection.RemoteIpAddress?.ToString(), LinkedDevices.Truncate(context.Request.Headers.UserAgent.ToString()));
            if (!signedIn)
            {
                lane.Rollback();
                if (won) return OAuthError.InvalidGrant("This device has been logged out.");
            }
            else
            {
                GrantSql.InsertRefreshToken(lane, successor);
                lane.Commit();
                return ProtocolResponse.Json(response);
            }
        }

        if (!retry) return Invalid;
        // The successor was used: this is not a lost response but a second holder of the token. (Had another retry
        // replaced it meanwhile, that retry won and this one simply loses.)
        var successorUsed = await db.RefreshTokens.AnyAsync(t => t.Id == token.ReplacedById && t.ConsumedAt != null, cancellationToken);
        return successorUsed ? await RevokeFamilyAsync(token, now, cancellationToken) : Invalid;
    }

    /// <summary>
    /// Reuse: one of two holders is an attacker. A family is one grant, and every grant has its own linked device, so
    /// logging that device out ends the family's refresh tokens and its access tokens too, as revocation does.
    /// </summary>
    private async Task<IResult> RevokeFamilyAsync(RefreshToken token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await LinkedDevices.LogOutAsync(db, token.LinkedDeviceId, now, token.UserId, cancellationToken);
        logger.LogWarning("Refresh token reuse in family {FamilyId}: device {DeviceId} logged out", token.FamilyId, token.LinkedDeviceId);
        await Audit.WriteAsync(db, Audit.RefreshTokenReuse, now, token.UserId, token.ClientId,
            $"A rotated refresh token was presented again after the leeway; family {token.FamilyId} revoked and device {token.LinkedDeviceId} logged out.",
            cancellationToken);
        return OAuthError.InvalidGrant("The refresh token was already used; the session has been revoked for safety.");
    }
}
