using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Protocol;

/// <summary>
/// The refresh token grant (RFC 6749 §6). Each use rotates the token (RFC 9700 §4.14.2): the presented token is
/// consumed by a conditional UPDATE, so of two concurrent uses only one succeeds, and a new token joins its family.
/// </summary>
public sealed class RefreshTokenGrant(
    AuthServerDbContext db,
    UserManager<ApplicationUser> users,
    TokenIssuer issuer,
    TimeProvider clock)
{
    private static readonly OAuthError Invalid = OAuthError.InvalidGrant("The refresh token is not valid.");

    public async Task<IResult> HandleAsync(HttpContext context, ProtocolRequest request, Client client)
    {
        var cancellationToken = context.RequestAborted;
        var presented = request["refresh_token"];
        if (string.IsNullOrEmpty(presented))
            return OAuthError.InvalidRequest("refresh_token is required.");

        var hash = OpaqueSecret.Hash(presented);
        var token = await db.RefreshTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        var now = clock.GetUtcNow();
        // §6 / §10.4: the token must be live and bound to the client presenting it.
        if (token is null || token.ClientId != client.ClientId || token.ConsumedAt is not null
            || token.RevokedAt is not null || token.ExpiresAt <= now)
            return Invalid;

        var device = await db.LinkedDevices.FirstOrDefaultAsync(d => d.Id == token.LinkedDeviceId, cancellationToken);
        if (device is null || device.RevokedAt is not null)
            return OAuthError.InvalidGrant("This device has been logged out.");

        var user = await users.FindByIdAsync(token.UserId);
        if (user is null || await users.IsLockedOutAsync(user))
            return OAuthError.InvalidGrant("The account is not available.");

        // §6: a narrower scope may be asked for, never a wider one.
        var original = token.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var scopes = request.Scopes ?? original;
        if (scopes.Except(original).Any())
            return OAuthError.InvalidScope("The requested scope exceeds the scope originally granted.");

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var consumed = await db.RefreshTokens
            .Where(t => t.Id == token.Id && t.ConsumedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ConsumedAt, now), cancellationToken);
        if (consumed == 0)
            return Invalid;

        LinkedDevices.Touch(device, context, now);
        // §6: the new refresh token keeps exactly the original scope, even when this access token asks for less.
        var response = issuer.Issue(context.Request, new TokenGrant(
            user, client, scopes, device, token.AuthTime, token.FamilyId, RefreshTokenScopes: original));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ProtocolResponse.Json(response);
    }
}
